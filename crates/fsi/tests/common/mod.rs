//! Valid requests, one per supported transaction, shaped as the spec's tables describe them.

#![allow(dead_code)]

use serde_json::{json, Value};

pub const PSN_NO: &str = "33020000000000000001";
pub const MDTRT_ID: &str = "MD202309010001";

pub fn fee_line_2204(sn: &str) -> Value {
    json!({
        "feedetl_sn": sn, "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "chrg_bchno": "B001",
        "dise_codg": "", "rxno": "", "rx_circ_flag": "0", "fee_ocur_time": "2023-09-01 10:00:00",
        "med_list_codg": "XB03ACY199B002010104718", "medins_list_codg": "YP0001",
        "det_item_fee_sumamt": "50.00", "cnt": 1, "pric": "50.000000",
        "sin_dos_dscr": "1支", "used_frqu_dscr": "qd", "prd_days": "1", "medc_way_dscr": "静滴",
        "bilg_dept_codg": "D01", "bilg_dept_name": "内科", "bilg_dr_codg": "D421003007628",
        "bilg_dr_name": "王医生", "hosp_appr_flag": "0", "tcmdrug_used_way": "", "etip_flag": "0",
        "etip_hosp_code": "", "dscg_tkdrug_flag": "0", "matn_fee_flag": "0",
        "exp_content": {"er_flag": "0"}
    })
}

pub fn fee_line_2301(sn: &str) -> Value {
    json!({
        "feedetl_sn": sn, "init_feedetl_sn": "", "mdtrt_id": MDTRT_ID, "drord_no": "YZ01",
        "psn_no": PSN_NO, "med_type": "21", "fee_ocur_time": "2023-09-02 08:00:00",
        "med_list_codg": "003401000230600", "medins_list_codg": "FW0001",
        "det_item_fee_sumamt": 30.5, "cnt": "1.0000", "pric": 30.5,
        "bilg_dept_codg": "D02", "bilg_dept_name": "外科", "bilg_dr_codg": "D421003007628",
        "bilg_dr_name": "李医生", "hosp_appr_flag": "1", "memo": "", "exp_content": ""
    })
}

pub fn inpatient_diagnosis() -> Value {
    json!({
        "psn_no": PSN_NO, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1,
        "diag_code": "E11.900", "diag_name": "2型糖尿病", "adm_cond": "有", "diag_dept": "内分泌科",
        "dise_dor_no": "D421003007628", "dise_dor_name": "王医生", "diag_time": "2023-09-01 09:00:00"
    })
}

/// `(infno, input)` for every supported transaction.
pub fn valid_inputs() -> Vec<(&'static str, Value)> {
    vec![
        (
            "9001",
            json!({"signIn": {"opter_no": "01", "mac": "00-1A-2B-3C-4D-5E", "ip": "10.0.0.8"}}),
        ),
        (
            "9002",
            json!({"signOut": {"sign_no": "79faf82271944fe3", "opter_no": "01"}}),
        ),
        (
            "9101",
            json!({"fsUploadIn": {"in": "UEsDBBQAAAAIAA==", "filename": "H50010300001_200.zip",
            "fixmedins_code": "H50010300001"}}),
        ),
        (
            "9102",
            json!({"fsDownloadIn": {"file_qury_no": "500100F17000000000000000000001", "filename": "H50010300001_201.zip",
            "fixmedins_code": "H50010300001"}}),
        ),
        (
            "1101",
            json!({"data": {"mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X",
            "card_sn": "", "begntime": "", "psn_cert_type": "1", "certno": "11010519491231002X", "psn_name": "张三"}}),
        ),
        ("1301", json!({"data": {"ver": "0"}})),
        ("1305", json!({"data": {"ver": "20230901"}})),
        (
            "1312",
            json!({"data": {"query_date": "2023-09-01", "hilist_code": "XB03ACY199B002010104718",
            "insu_admdvs": "330200", "updt_time": "2023-01-01 00:00:00", "page_num": 1, "page_size": "100"}}),
        ),
        (
            "1901",
            json!({"data": {"type": "med_type", "parentValue": "", "admdvs": "330200",
            "date": "2023-09-01", "valiFlag": "1"}}),
        ),
        (
            "2001",
            json!({"data": {"psn_no": PSN_NO, "insutype": "390", "fixmedins_code": "H33020000001",
            "med_type": "21", "begntime": "2023-09-01 08:00:00", "endtime": "2023-09-12 08:00:00",
            "dise_codg": "", "dise_name": ""}}),
        ),
        (
            "2201",
            json!({"data": {"psn_no": PSN_NO, "insutype": "390", "begntime": "2023-09-01 08:00:00",
            "mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X", "ipt_otp_no": "MZ0001",
            "atddr_no": "D421003007628", "dr_name": "王医生", "dept_code": "D01", "dept_name": "内科",
            "caty": "A03"}}),
        ),
        (
            "2202",
            json!({"data": {"psn_no": PSN_NO, "mdtrt_id": MDTRT_ID, "ipt_otp_no": "MZ0001"}}),
        ),
        (
            "2203",
            json!({
            "mdtrtinfo": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "med_type": "11",
                "begntime": "2023-09-01 08:00:00", "main_cond_dscr": "头痛", "dise_codg": "", "dise_name": ""},
            "diseinfo": [{"diag_type": "1", "diag_srt_no": "1", "diag_code": "R51.x00", "diag_name": "头痛",
                "diag_dept": "内科", "dise_dor_no": "D421003007628", "dise_dor_name": "王医生",
                "diag_time": "2023-09-01 08:10:00", "vali_flag": "1"}]}),
        ),
        (
            "2203A",
            json!({
            "mdtrtinfo": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "med_type": "51",
                "begntime": "20230901080000", "matn_type": "7", "geso_val": 12},
            "diseinfo": {"diag_type": "1", "diag_srt_no": 1, "diag_code": "Z34.900", "diag_name": "妊娠监督",
                "diag_dept": "产科", "dise_dor_no": "D421003007628", "dise_dor_name": "王医生",
                "diag_time": "2023-09-01 08:10:00", "vali_flag": 1}}),
        ),
        ("2204", json!({"feedetail": [fee_line_2204("1"), fee_line_2204("2")]})),
        (
            "2205",
            json!({"data": {"mdtrt_id": MDTRT_ID, "chrg_bchno": "0000", "psn_no": PSN_NO}}),
        ),
        (
            "2206",
            json!({"data": {"psn_no": PSN_NO, "mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X",
            "med_type": "11", "medfee_sumamt": "100.00", "psn_setlway": "01", "mdtrt_id": MDTRT_ID,
            "chrg_bchno": "B001", "acct_used_flag": "1", "insutype": "310"}}),
        ),
        (
            "2207",
            json!({"data": {"psn_no": PSN_NO, "mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X",
            "med_type": "11", "medfee_sumamt": 100.00, "psn_setlway": "1", "mdtrt_id": MDTRT_ID,
            "chrg_bchno": "B001", "acct_used_flag": 0, "insutype": 310, "invono": "FP001",
            "fulamt_ownpay_amt": "0", "overlmt_selfpay": "0", "preselfpay_amt": "5.00", "inscp_scp_amt": "95.00"}}),
        ),
        (
            "2208",
            json!({"data": {"setl_id": "S0001", "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO}}),
        ),
        (
            "2301",
            json!({"feedetail": [fee_line_2301("1"),
            {"feedetl_sn": "2", "init_feedetl_sn": "1", "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "med_type": "21",
             "fee_ocur_time": "2023-09-03 08:00:00", "med_list_codg": "003401000230600",
             "medins_list_codg": "FW0001", "det_item_fee_sumamt": "-30.50", "cnt": -1, "pric": "30.5",
             "bilg_dept_codg": "D02", "bilg_dept_name": "外科", "bilg_dr_codg": "D421003007628",
             "bilg_dr_name": "李医生"}]}),
        ),
        (
            "2302",
            json!({"data": [{"feedetl_sn": "0000", "mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "exp_content": ""}]}),
        ),
        (
            "2303",
            json!({"data": {"psn_no": PSN_NO, "mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X",
            "medfee_sumamt": "22000.00", "psn_setlway": "01", "mdtrt_id": MDTRT_ID, "insutype": "390",
            "acct_used_flag": "0", "mid_setl_flag": "0", "dscgTime": "2023-09-12 10:00:00"}}),
        ),
        (
            "2304",
            json!({"data": {"psn_no": PSN_NO, "mdtrt_cert_type": "2", "mdtrt_cert_no": "11010519491231002X",
            "medfee_sumamt": 22000, "psn_setlway": "01", "mdtrt_id": MDTRT_ID, "insutype": "390",
            "acct_used_flag": "0", "mid_setl_flag": "1", "invono": "FP002",
            "fulamt_ownpay_amt": "1500.00", "overlmt_selfpay": "0.00", "preselfpay_amt": "500.00",
            "inscp_scp_amt": "20000.00"}}),
        ),
        (
            "2305",
            json!({"data": {"mdtrt_id": MDTRT_ID, "setl_id": "S0002", "psn_no": PSN_NO, "exp_content": ""}}),
        ),
        (
            "2401",
            json!({
            "mdtrtinfo": {"psn_no": PSN_NO, "insutype": "390", "coner_name": "赵大妈", "tel": "13800000000",
                "begntime": "2023-09-01 08:00:00", "mdtrt_cert_type": "02", "mdtrt_cert_no": "11010519491231002X",
                "med_type": "21", "ipt_no": "ZY0001", "medrcdno": "BA0001", "atddr_no": "D421003007628",
                "chfpdr_name": "王医生", "adm_diag_dscr": "胸痛待查", "adm_dept_codg": "D03",
                "adm_dept_name": "心内科", "adm_bed": "12", "dscg_maindiag_code": "I20.000",
                "dscg_maindiag_name": "不稳定型心绞痛", "main_cond_dscr": "", "dise_codg": "", "dise_name": "",
                "oprn_oprt_code": "", "oprn_oprt_name": "", "fpsc_no": "", "matn_type": "", "birctrl_type": "",
                "latechb_flag": "", "geso_val": "", "fetts": "", "fetus_cnt": "", "pret_flag": "",
                "birctrl_matn_date": "", "dise_type_code": ""},
            "diseinfo": [inpatient_diagnosis()]}),
        ),
        (
            "2402",
            json!({
            "dscginfo": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "insutype": "390", "endtime": "2023-09-12 10:00:00",
                "dscg_dept_codg": "D03", "dscg_dept_name": "心内科", "dscg_bed": "12", "dscg_way": "1",
                "cop_flag": "0", "die_date": ""},
            "diseinfo": [inpatient_diagnosis()]}),
        ),
        (
            "2403",
            json!({
            "adminfo": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO, "begntime": "2023-09-01 09:00:00",
                "ipt_otp_no": "ZY0001", "adm_bed": "13"}}),
        ),
        ("2404", json!({"data": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO}})),
        ("2405", json!({"data": {"mdtrt_id": MDTRT_ID, "psn_no": PSN_NO}})),
        (
            "2503",
            json!({"data": {"psn_no": PSN_NO, "insutype": "310", "opsp_dise_code": "M01600",
            "opsp_dise_name": "高血压", "begndate": "2023-01-01", "enddate": "2023-12-31",
            "hosp_ide_date": "20221220", "ide_fixmedins_no": "H33020000001"}}),
        ),
        (
            "2504",
            json!({"data": {"psn_no": PSN_NO, "trt_dcla_detl_sn": "TD0001", "memo": "误备案"}}),
        ),
        (
            "2601",
            json!({"data": {"psn_no": PSN_NO, "omsgid": "H33020000001202309011200001234", "oinfno": "2207"}}),
        ),
        (
            "3201",
            json!({"data": {"insutype": "310", "clr_type": "11", "setl_optins": "330200",
            "stmt_begndate": "2023-09-01", "stmt_enddate": "2023-09-30", "medfee_sumamt": "12345.67",
            "fund_pay_sumamt": "8000.00", "acct_pay": "1000.00", "fixmedins_setl_cnt": 42}}),
        ),
        (
            "3101",
            json!({"data": {"trig_scen": "2", "patient_dtos": [{
                "patn_id": "P1", "gend": "1", "brdy": "1980-01-01", "curr_mdtrt_id": "M1",
                "fsi_encounter_dtos": [{"mdtrt_id": "M1", "medins_id": "H1", "adm_date": "2026-03-01 09:00:00",
                    "med_mdtrt_type": "1", "insutype": "310",
                    "fsi_order_dtos": [{"rx_id": "R1", "hilist_code": "ZD03AAA0043010100166", "cnt": "2",
                        "pric": "64", "drord_begn_date": "2026-03-01 09:00:00"}]}]}]}}),
        ),
        (
            "3102",
            json!({"data": {"trig_scen": "7", "patient_dtos": [{
                "patn_id": "P1", "gend": "1", "brdy": "1980-01-01", "curr_mdtrt_id": "M1",
                "fsi_encounter_dtos": [{"mdtrt_id": "M1", "medins_id": "H1", "adm_date": "2026-03-01 09:00:00",
                    "med_mdtrt_type": "1", "insutype": "310", "fsi_order_dtos": []}]}]}}),
        ),
        (
            "3103",
            json!({"data": {"warn_type": 1, "warns": [{"warn_rslt_id": "J1", "dspo_way": "2"}]}}),
        ),
        (
            "3202",
            json!({"data": {"setl_optins": "330200", "file_qury_no": "FQ0001",
            "stmt_begndate": "2023-09-01", "stmt_enddate": "2023-09-30", "medfee_sumamt": "12345.67",
            "fund_pay_sumamt": "8000.00", "cash_payamt": "3345.67", "fixmedins_setl_cnt": "42", "clr_type": "11"}}),
        ),
        (
            "4101",
            json!({"setlinfo": {"mdtrt_id": MDTRT_ID, "setl_id": "S0001", "psn_no": PSN_NO, "gend": "1", "age": "61",
            "act_ipt_days": "6", "dscg_way": "1", "vent_used_dura": "0天5小时30分钟"},
            "diseinfo": [{"diag_type": "1", "diag_code": "I21.001", "diag_name": "急性前壁心肌梗死", "maindiag_flag": "1"}],
            "oprninfo": [{"oprn_oprt_code": "36.0601", "oprn_oprt_name": "冠状动脉支架置入", "main_oprn_flag": "1"}]}),
        ),
        (
            "4101A",
            json!({"setlinfo": {"mdtrt_id": MDTRT_ID, "setl_id": "S0001", "psn_no": PSN_NO},
            "diseinfo": {"diag_code": "J18.900", "maindiag_flag": 1}}),
        ),
        (
            "5201",
            json!({"data": {"psn_no": PSN_NO, "begntime": "2023-01-01 00:00:00", "endtime": "2023-12-31 23:59:59",
            "med_type": "", "mdtrt_id": ""}}),
        ),
        ("5202", json!({"data": {"psn_no": PSN_NO, "mdtrt_id": MDTRT_ID}})),
        (
            "5203",
            json!({"data": {"psn_no": PSN_NO, "setl_id": "S0001", "mdtrt_id": MDTRT_ID}}),
        ),
        (
            "5204",
            json!({"data": {"psn_no": PSN_NO, "setl_id": "", "mdtrt_id": MDTRT_ID}}),
        ),
        (
            "5205",
            json!({"data": {"psn_no": PSN_NO, "begntime": "2023-01-01", "endtime": "2023-12-31"}}),
        ),
        ("5206", json!({"data": {"psn_no": PSN_NO, "cum_ym": "202309"}})),
    ]
}

/// A whole request body around `input`.
pub fn envelope(infno: &str, input: Value) -> Value {
    json!({
        "infno": infno, "msgid": "H33020000001202309011200001234", "mdtrtarea_admvs": "330200",
        "insuplc_admdvs": "330200", "recer_sys_code": "MBS_LOCAL", "dev_no": "", "dev_safe_info": "",
        "cainfo": "", "signtype": "", "infver": "V1.0", "opter_type": "1", "opter": "01", "opter_name": "张三",
        "inf_time": "2023-09-01 12:00:00", "fixmedins_code": "H33020000001", "fixmedins_name": "宁波市第一医院",
        "sign_no": "", "input": input
    })
}
