//! Every stored settlement can be recomputed from what was stored with it — its inputs and the
//! policy version it names — and gives the same result (platform.md §4). Visits are settled
//! through the platform as a HIS would (2201 → 2204 → 2207, some reversed with 2208), then each
//! stored settlement is recomputed and compared with what was stored and answered.

use std::path::Path;

use chrono::NaiveDate;
use serde_json::{json, Value};
use yibao_money::{Money, Quantity, Rounding};
use yibao_platform::service::{recompute, Region};
use yibao_platform::Platform;
use yibao_store::{PersonRecord, SettlementFilter, SettlementStatus, WriteOp};

mod common;
use common::{call, register_institution, INSTITUTION};
const PERSONS: usize = 40;

fn region() -> Region {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/chongqing");
    let versions = ["2019.toml", "2023.toml"]
        .iter()
        .map(|f| {
            let path = dir.join(f);
            yibao_policy::load_policy(&path.display().to_string(), &std::fs::read_to_string(&path).unwrap()).unwrap()
        })
        .collect();
    Region {
        admdvs: "500000".into(),
        versions,
        catalog: yibao_demo::demo_catalog(),
        contribution: Vec::new(),
        monitor: Vec::new(),
    }
}

fn person_record(index: usize) -> PersonRecord {
    let p = yibao_demo::demo_person(index);
    PersonRecord {
        person_no: p.person_no,
        certno: p.certno,
        name: p.name,
        sex: p.sex,
        birth_date: p.birth_date,
        ethnicity: "01".into(),
        insurance: p.insurance,
        person_type: p.person_type,
        tier: p.tier,
        groups: p.groups,
        civil_servant: p.civil_servant,
        insured_admdvs: "500000".into(),
        employer_name: p.employer_name,
        status: "1".into(),
        enrolled_on: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        benefits_from: None,
        account_balance: p.account_balance,
        family_payer: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stored_settlement_recomputes_to_what_was_stored() {
    let file = std::env::temp_dir().join(format!("yibao-recompute-{}.db", std::process::id()));
    let url = format!("sqlite://{}", file.display());
    let mut writer = yibao_store::open(&url).unwrap();
    writer.migrate().unwrap();
    let reader = yibao_store::open(&url).unwrap();
    let platform = Platform::start(reader, writer, region()).unwrap();
    register_institution(&platform).await;
    platform
        .apply((0..PERSONS).map(|i| WriteOp::UpsertPerson(person_record(i))).collect())
        .await
        .unwrap();

    let items: Vec<_> = yibao_demo::demo_items()
        .into_iter()
        .filter(|d| d.price.millionths() > 0)
        .take(60)
        .collect();
    let mut serial = 0;
    let mut settled = 0;
    let now = yibao_platform::now().format("%Y-%m-%d %H:%M:%S").to_string();
    for index in 0..PERSONS {
        let p = person_record(index);
        let registered = call(
            &platform,
            &mut serial,
            "2201",
            json!({ "data": { "psn_no": p.person_no, "insutype": p.insurance.code(), "begntime": now,
                "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "ipt_otp_no": format!("MZ{index}"),
                "atddr_no": "D1", "dr_name": "医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03" } }),
        )
        .await;
        assert_eq!(registered["infcode"], 0, "{registered}");
        let visit_id = registered["output"]["data"]["mdtrt_id"].as_str().unwrap().to_owned();
        let mut total = Money::ZERO;
        let lines: Vec<Value> = (0..4)
            .map(|n| {
                let item = &items[(index * 7 + n * 13) % items.len()];
                let quantity = Quantity::whole(1 + (n as i64 % 2));
                let amount = Money::from_price_quantity(item.price, quantity, Rounding::HalfUp);
                total += amount;
                json!({ "feedetl_sn": n.to_string(), "mdtrt_id": visit_id, "psn_no": p.person_no, "chrg_bchno": "1",
                    "fee_ocur_time": now, "med_list_codg": item.item.code.as_str(), "medins_list_codg": format!("L{n}"),
                    "det_item_fee_sumamt": amount.to_string(), "cnt": quantity.to_string(), "pric": item.price.to_string(),
                    "bilg_dept_codg": "A01", "bilg_dept_name": "内科", "bilg_dr_codg": "D1", "bilg_dr_name": "医生" })
            })
            .collect();
        let uploaded = call(&platform, &mut serial, "2204", json!({ "feedetail": lines })).await;
        assert_eq!(uploaded["infcode"], 0, "{uploaded}");
        let settle = json!({ "data": { "psn_no": p.person_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno,
            "med_type": "11", "medfee_sumamt": total.to_string(), "psn_setlway": "01", "mdtrt_id": visit_id,
            "chrg_bchno": "1", "acct_used_flag": "1", "insutype": p.insurance.code() } });
        let answer = call(&platform, &mut serial, "2207", settle).await;
        assert_eq!(answer["infcode"], 0, "{answer}");
        settled += 1;
        if index % 5 == 0 {
            let setl_id = answer["output"]["setlinfo"]["setl_id"].as_str().unwrap();
            let cancelled = call(
                &platform,
                &mut serial,
                "2208",
                json!({ "data": { "setl_id": setl_id, "mdtrt_id": visit_id, "psn_no": p.person_no } }),
            )
            .await;
            assert_eq!(cancelled["infcode"], 0, "{cancelled}");
        }
    }

    let mut store = yibao_store::open(&url).unwrap();
    let today = yibao_platform::now().date();
    let filter = SettlementFilter {
        institution: INSTITUTION.into(),
        insurance: None,
        clearing_type: None,
        from: today.pred_opt().unwrap(),
        to: today.succ_opt().unwrap(),
        in_force_only: false,
    };
    let stored = store.settlements(&filter, 1_000).unwrap();
    assert_eq!(stored.len(), settled);
    assert!(stored.iter().any(|s| s.status == SettlementStatus::Cancelled));
    let region = region();
    for record in &stored {
        let again = recompute(record, &region).unwrap();
        assert_eq!(
            (again.total, again.fund_total, again.account_pay, again.cash_pay),
            (record.total, record.fund_total, record.account_pay, record.cash_pay),
            "settlement {} recomputes to other figures",
            record.settlement_id
        );
        assert_eq!(
            serde_json::to_string(&again.deltas).unwrap(),
            record.deltas_json,
            "{}",
            record.settlement_id
        );
        let output: Value = serde_json::from_str(&record.output_json).unwrap();
        let rows = output["setldetail"].as_array().unwrap();
        assert_eq!(rows.len(), again.funds.len(), "{}", record.settlement_id);
        for (row, fund) in rows.iter().zip(&again.funds) {
            assert_eq!(row["fund_pay_type"], fund.fund.code());
            assert_eq!(row["fund_payamt"].to_string(), fund.amount.to_string());
        }
    }
    drop(store);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}
