//! End-to-end tests of the national interface: the real `yibao serve` binary, spoken to over real
//! HTTP, on SQLite and on PostgreSQL.
//!
//! Each scenario is written once, as a function of the database URL, and run on both backends
//! (`sqlite::…` and `postgres::…`). A scenario starts its own server (`yibao serve --demo
//! --demo-persons 2000`) on a free port of 127.0.0.1 against a fresh database — a temporary
//! SQLite file, or a PostgreSQL schema of its own (`?schema=`, dropped at the end) — so the
//! scenarios are independent and run in parallel. Guards kill the server and remove the database
//! however the test ends.
//!
//! PostgreSQL: the URL comes from `YIBAO_TEST_POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`; a server that cannot be reached fails the
//! PostgreSQL tests.
//!
//! The client is deliberately small and independent of the server's code: it builds envelopes
//! as JSON, signs `x-tif-*` headers, and reads answers with a hand-written HTTP/1.1 exchange over
//! `TcpStream`. Expected values come from the demo data (`yibao_demo`) and the demo region's
//! published 2023 policy, not from the server.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Barrier;

use chrono::{Datelike, Local, NaiveDate};
use serde_json::{json, Value};
use yibao_catalog::{CatalogItem, Restriction};
use yibao_codes::{ChargeClass, FundPayType, InsuranceType, SettlementField, Tier};
use yibao_demo::{demo_institutions, demo_items, demo_person, DemoInstitution, DemoItem, DemoPerson, DEMO_ADMDVS};
use yibao_money::{Money, Price, Quantity, Ratio, Rounding};

mod support;
use support::*;

/// Demo persons each server seeds (`--demo-persons`): enough to find every kind of person the
/// scenarios need, few enough to start in well under a second.
const DEMO_PERSONS: usize = 2000;
const NATIONAL_PATH: &str = "/fsi/api/rsfComIfsService/callService";
/// The largest body the server accepts (`yibao_fsi::ENVELOPE_BYTES_MAX`), restated here.
const ENVELOPE_BYTES_MAX: usize = 4 * 1024 * 1024;

// =============================================================================================
// Harness: tests/support (databases, servers, HTTP).

#[derive(Clone, Copy, PartialEq, Eq)]
enum Auth {
    On,
    Off,
}

impl Server {
    fn start(database: &str, auth: Auth) -> Server {
        let args = if auth == Auth::Off {
            vec!["--no-auth".to_owned()]
        } else {
            Vec::new()
        };
        Server::start_with(database, DEMO_PERSONS, &args, None)
    }
}

// =============================================================================================
// The HIS client: envelopes, signatures, answers.

fn now_text() -> String {
    Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

fn days_ago_text(days: i64) -> String {
    (Local::now() - chrono::Duration::days(days))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn today() -> NaiveDate {
    Local::now().date_naive()
}

/// How a client signs its requests.
#[derive(Clone)]
enum Signing {
    /// With its own `x-tif` credentials.
    Own,
    /// Not at all.
    Unsigned,
    /// With these credentials (someone else's, or wrong ones).
    As { paas_id: String, secret: String },
}

/// A hospital's HIS: one demo institution.
#[derive(Clone)]
struct His {
    addr: String,
    institution: DemoInstitution,
    signing: Signing,
}

/// An answer, as bytes and as JSON.
struct Reply {
    raw: Vec<u8>,
    json: Value,
    msgid: String,
}

impl His {
    fn new(server: &Server, institution: usize) -> His {
        His {
            addr: server.addr.clone(),
            institution: demo_institutions().swap_remove(institution),
            signing: Signing::Own,
        }
    }

    fn signing(&self, signing: Signing) -> His {
        His {
            signing,
            ..self.clone()
        }
    }

    fn code(&self) -> &str {
        &self.institution.code
    }

    /// `fixmedins_code`(12) + `yyyyMMddHHmmss`(14) + a 4-digit serial: the national layout.
    fn msgid(&self) -> String {
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed) % 10_000;
        format!("{}{}{serial:04}", self.code(), Local::now().format("%Y%m%d%H%M%S"))
    }

    fn envelope(&self, infno: &str, msgid: &str, input: Value) -> Value {
        json!({
            "infno": infno,
            "msgid": msgid,
            "mdtrtarea_admvs": DEMO_ADMDVS,
            "insuplc_admdvs": DEMO_ADMDVS,
            "recer_sys_code": "YBXT",
            "dev_no": "",
            "dev_safe_info": "",
            "cainfo": "",
            "signtype": "",
            "infver": "V1.0",
            "opter_type": "1",
            "opter": "001",
            "opter_name": "收费员",
            "inf_time": now_text(),
            "fixmedins_code": self.institution.code,
            "fixmedins_name": self.institution.name,
            "sign_no": "",
            "input": input,
        })
    }

    fn auth_headers(&self) -> Vec<(String, String)> {
        let (paas_id, secret) = match &self.signing {
            Signing::Unsigned => return Vec::new(),
            Signing::Own => (self.institution.paas_id.clone(), self.institution.secret.clone()),
            Signing::As { paas_id, secret } => (paas_id.clone(), secret.clone()),
        };
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let nonce = unique("nonce");
        let signature = yibao_server::sign(&timestamp, &secret, &nonce);
        vec![
            ("x-tif-paasid".into(), paas_id),
            ("x-tif-timestamp".into(), timestamp),
            ("x-tif-nonce".into(), nonce),
            ("x-tif-signature".into(), signature),
        ]
    }

    /// Posts a body as it is to `path`, and checks the answer is a spec-form JSON answer.
    fn post_to(&self, path: &str, body: &[u8], msgid: &str) -> Reply {
        let reply = http(&self.addr, "POST", path, &self.auth_headers(), body);
        let text = String::from_utf8_lossy(&reply.body).into_owned();
        assert_eq!(reply.status, 200, "HTTP status of {path}: {text}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/json;charset=UTF-8"),
            "content type: {text}"
        );
        let json: Value =
            serde_json::from_slice(&reply.body).unwrap_or_else(|e| panic!("answer is not JSON ({e}): {text}"));
        check_answer_form(&json);
        Reply {
            raw: reply.body,
            json,
            msgid: msgid.to_owned(),
        }
    }

    fn post(&self, body: &[u8]) -> Reply {
        self.post_to(NATIONAL_PATH, body, "")
    }

    fn call_with_msgid(&self, infno: &str, msgid: &str, input: Value) -> Reply {
        let body = serde_json::to_vec(&self.envelope(infno, msgid, input)).expect("serialize");
        self.post_to(NATIONAL_PATH, &body, msgid)
    }

    fn call(&self, infno: &str, input: Value) -> Reply {
        self.call_with_msgid(infno, &self.msgid(), input)
    }
}

/// Every answer, success or refusal, has the spec's envelope (§3.2).
fn check_answer_form(json: &Value) {
    let text = json.to_string();
    for key in [
        "infcode",
        "inf_refmsgid",
        "refmsg_time",
        "respond_time",
        "err_msg",
        "output",
        "warn_msg",
        "cainfo",
        "signtype",
    ] {
        assert!(json.get(key).is_some(), "answer lacks {key}: {text}");
    }
    let infcode = json["infcode"]
        .as_i64()
        .unwrap_or_else(|| panic!("infcode is not a number: {text}"));
    assert!(infcode == 0 || infcode == -1, "infcode {infcode}: {text}");
    for key in ["refmsg_time", "respond_time"] {
        let t = json[key].as_str().unwrap_or_default();
        assert!(
            t.len() == 17 && t.bytes().all(|b| b.is_ascii_digit()),
            "{key} {t:?}: {text}"
        );
    }
    let refmsgid = json["inf_refmsgid"].as_str().expect("inf_refmsgid is text");
    if infcode == 0 {
        assert_eq!(refmsgid.len(), 30, "inf_refmsgid: {text}");
        assert!(refmsgid.starts_with(DEMO_ADMDVS), "inf_refmsgid: {text}");
        assert_eq!(json["err_msg"], "", "{text}");
    } else {
        assert!(refmsgid.is_empty() || refmsgid.len() == 30, "inf_refmsgid: {text}");
    }
}

fn is_chinese(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The output of a successful answer.
    fn output(&self) -> &Value {
        assert_eq!(self.json["infcode"], 0, "expected success: {}", self.text());
        assert!(self.json["output"].is_object(), "expected an output: {}", self.text());
        &self.json["output"]
    }

    /// A successful answer without output (2202, 2203, 2302, 2402, 2405, 2601, …).
    fn done(&self) {
        assert_eq!(self.json["infcode"], 0, "expected success: {}", self.text());
        assert!(self.json["output"].is_null(), "expected no output: {}", self.text());
    }

    /// The `err_msg` of a refusal, after checking the refusal's spec form.
    fn refusal(&self) -> String {
        assert_eq!(self.json["infcode"], -1, "expected a refusal: {}", self.text());
        assert!(
            self.json["output"].is_null(),
            "a refusal has no output: {}",
            self.text()
        );
        let message = self.json["err_msg"].as_str().expect("err_msg is text").to_owned();
        assert!(
            message.chars().any(is_chinese),
            "err_msg should say in Chinese what is wrong: {}",
            self.text()
        );
        message
    }

    /// Checks the refusal's `err_msg` is exactly `expected`.
    fn refused(&self, expected: &str) {
        assert_eq!(self.refusal(), expected, "{}", self.text());
    }
}

// =============================================================================================
// Values on the wire.

/// An amount as the server writes it: a JSON number with exactly two decimals.
fn money(value: &Value, what: &str) -> Money {
    let Value::Number(n) = value else {
        panic!("{what}: expected a JSON number, got {value}")
    };
    let text = n.to_string();
    let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
    assert_eq!(decimals, 2, "{what} = {text}: amounts have two decimals");
    Money::parse_yuan(&text).unwrap_or_else(|e| panic!("{what} = {text}: {e}"))
}

fn number(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text} is not a JSON number: {e}"))
}

fn amount_json(m: Money) -> Value {
    number(&m.to_string())
}

/// A ratio as the server writes it: four decimals.
fn ratio_json(r: Ratio) -> Value {
    let v = r.ten_thousandths();
    number(&format!("{}.{:04}", v / 10_000, v % 10_000))
}

fn price_json(p: Price) -> Value {
    let v = p.millionths();
    number(&format!("{}.{:06}", v / 1_000_000, v % 1_000_000))
}

fn quantity_json(q: Quantity) -> Value {
    let v = q.ten_thousandths();
    let sign = if v < 0 { "-" } else { "" };
    number(&format!("{sign}{}.{:04}", v.abs() / 10_000, v.abs() % 10_000))
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not text in {value}"))
}

// =============================================================================================
// Demo data: persons, items, fee lines.

fn find_person(what: &str, wanted: impl Fn(&DemoPerson) -> bool) -> DemoPerson {
    (0..DEMO_PERSONS)
        .map(demo_person)
        .find(|p| wanted(p))
        .unwrap_or_else(|| panic!("no demo person among the first {DEMO_PERSONS} is {what}"))
}

/// An employee in service (1101, not a civil servant, nothing filed) with at least 1000 yuan in
/// the personal account.
fn employee_with_account() -> DemoPerson {
    find_person("an employee with an account", |p| {
        p.insurance == InsuranceType::EmployeeBasic
            && p.person_type.to_string() == "1101"
            && !p.civil_servant
            && p.groups.is_empty()
            && p.chronic_diseases.is_empty()
            && p.account_balance >= Money::from_yuan(1000)
    })
}

/// An adult resident of the first tier, in no special group, nothing filed.
fn resident_adult() -> DemoPerson {
    find_person("an adult resident", |p| {
        p.insurance == InsuranceType::ResidentBasic
            && p.person_type.to_string() == "1501"
            && p.tier == Some(Tier::One)
            && p.groups.is_empty()
            && p.chronic_diseases.is_empty()
    })
}

fn age_on(birth: NaiveDate, date: NaiveDate) -> u32 {
    date.years_since(birth).expect("born before today")
}

/// Catalog items of each kind, without payment restrictions.
struct Items {
    /// 甲类, 200–400 yuan.
    a: DemoItem,
    /// 甲类, at least 400 yuan.
    big_a: DemoItem,
    /// 乙类 with a first self-pay ratio.
    b: DemoItem,
    /// 丙类.
    c: DemoItem,
    /// Priced above its price cap.
    capped: DemoItem,
}

fn items() -> Items {
    let all = demo_items();
    let yuan = |d: &DemoItem| d.price.millionths() / 1_000_000;
    let find = |what: &str, wanted: &dyn Fn(&DemoItem) -> bool| -> DemoItem {
        all.iter()
            .find(|d| {
                d.item.restriction == Restriction::default()
                    && d.item.first_self_pay_by_insurance.is_empty()
                    && d.price.millionths() > 0
                    && wanted(d)
            })
            .cloned()
            .unwrap_or_else(|| panic!("no demo item is {what}"))
    };
    Items {
        a: find("甲类 of 200–400 yuan", &|d| {
            d.item.class == ChargeClass::A && d.item.price_cap.is_none() && (200..400).contains(&yuan(d))
        }),
        big_a: find("甲类 of 400 yuan or more", &|d| {
            d.item.class == ChargeClass::A && d.item.price_cap.is_none() && yuan(d) >= 400
        }),
        b: find("乙类", &|d| {
            d.item.class == ChargeClass::B
                && d.item.price_cap.is_none()
                && !d.item.first_self_pay.is_zero()
                && (50..300).contains(&yuan(d))
        }),
        c: find("丙类", &|d| d.item.class == ChargeClass::C && yuan(d) <= 100),
        capped: find("over its cap", &|d| {
            d.item.class != ChargeClass::C && d.item.price_cap.is_some_and(|cap| cap < d.price) && yuan(d) <= 300
        }),
    }
}

/// A fee line as the HIS bills it.
#[derive(Clone)]
struct Line {
    sn: String,
    item: CatalogItem,
    price: Price,
    quantity: Quantity,
    amount: Money,
    refund_of: Option<String>,
}

/// The four parts of a line (明细分割): 全自费, 超限价, 先行自付, 符合政策范围.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Split {
    full_self_pay: Money,
    over_cap: Money,
    first_self_pay: Money,
    policy_scope: Money,
}

impl Line {
    fn new(sn: &str, demo: &DemoItem, count: i64) -> Line {
        let quantity = Quantity::whole(count);
        Line {
            sn: sn.to_owned(),
            item: demo.item.clone(),
            price: demo.price,
            quantity,
            amount: Money::from_price_quantity(demo.price, quantity, Rounding::HalfUp),
            refund_of: None,
        }
    }

    /// A refund of `count` units of `original` (negative quantity and amount).
    fn refund(sn: &str, original: &Line, count: i64) -> Line {
        let quantity = Quantity::whole(-count);
        Line {
            sn: sn.to_owned(),
            item: original.item.clone(),
            price: original.price,
            quantity,
            amount: Money::from_price_quantity(original.price, quantity, Rounding::HalfUp),
            refund_of: Some(original.sn.clone()),
        }
    }

    fn code(&self) -> String {
        self.item.code.to_string()
    }

    /// The first self-pay ratio the answer reports: 1 for a fully self-paid line.
    fn selfpay_prop(&self, insurance: InsuranceType) -> Ratio {
        match self.item.class {
            ChargeClass::C => Ratio::ONE,
            ChargeClass::B => self.item.first_self_pay_for(insurance),
            _ => Ratio::ZERO,
        }
    }

    /// The split the catalog rules give: 丙类 all self-paid; above the price cap self-paid; of
    /// the rest, 乙类's ratio first self-paid (rounded half up); the remainder in policy scope.
    /// A refund splits as the negation of the same quantity's split.
    fn expected_split(&self, insurance: InsuranceType) -> Split {
        if self.quantity.ten_thousandths() < 0 {
            let positive = Line {
                quantity: Quantity::from_ten_thousandths(-self.quantity.ten_thousandths()),
                amount: -self.amount,
                refund_of: None,
                ..self.clone()
            };
            let s = positive.expected_split(insurance);
            return Split {
                full_self_pay: -s.full_self_pay,
                over_cap: -s.over_cap,
                first_self_pay: -s.first_self_pay,
                policy_scope: -s.policy_scope,
            };
        }
        if self.item.class == ChargeClass::C {
            return Split {
                full_self_pay: self.amount,
                ..Split::default()
            };
        }
        let over_cap = match self.item.price_cap {
            Some(cap) if self.price > cap => {
                self.amount - Money::from_price_quantity(cap, self.quantity, Rounding::HalfUp)
            }
            _ => Money::ZERO,
        };
        let capped = self.amount - over_cap;
        let first_self_pay = capped.times(self.selfpay_prop(insurance), Rounding::HalfUp);
        Split {
            full_self_pay: Money::ZERO,
            over_cap,
            first_self_pay,
            policy_scope: capped - first_self_pay,
        }
    }

    /// The line's `feedetail` fields shared by 2204 and 2301; numbers as JSON numbers, or as
    /// strings as many HIS send them.
    fn detail(&self, mdtrt_id: &str, psn_no: &str, numbers_as_strings: bool) -> serde_json::Map<String, Value> {
        let num = |text: String| {
            if numbers_as_strings {
                Value::String(text)
            } else {
                number(&text)
            }
        };
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_owned(), v);
        };
        put("feedetl_sn", json!(self.sn));
        put("mdtrt_id", json!(mdtrt_id));
        put("psn_no", json!(psn_no));
        put("fee_ocur_time", json!(now_text()));
        put("med_list_codg", json!(self.code()));
        put("medins_list_codg", json!(format!("HIS-{}", self.sn)));
        put("det_item_fee_sumamt", num(self.amount.to_string()));
        put("cnt", num(self.quantity.to_string()));
        put("pric", num(self.price.to_string()));
        put("bilg_dept_codg", json!("A01"));
        put("bilg_dept_name", json!("内科"));
        put("bilg_dr_codg", json!("D500101000001"));
        put("bilg_dr_name", json!("李医生"));
        put("hosp_appr_flag", json!("0"));
        m
    }

    fn outpatient_detail(&self, mdtrt_id: &str, psn_no: &str, numbers_as_strings: bool) -> Value {
        let mut m = self.detail(mdtrt_id, psn_no, numbers_as_strings);
        m.insert("chrg_bchno".into(), json!("B1"));
        m.insert("rx_circ_flag".into(), json!("0"));
        Value::Object(m)
    }

    fn inpatient_detail(&self, mdtrt_id: &str, psn_no: &str) -> Value {
        let mut m = self.detail(mdtrt_id, psn_no, false);
        m.insert("med_type".into(), json!("21"));
        m.insert("fee_ocur_time".into(), json!(days_ago_text(1)));
        if let Some(original) = &self.refund_of {
            m.insert("init_feedetl_sn".into(), json!(original));
        }
        Value::Object(m)
    }
}

fn total(lines: &[Line]) -> Money {
    lines.iter().map(|l| l.amount).sum()
}

/// Checks each row of a 2204/2301 answer against the line it answers: echoed values, the
/// split identity, and the split the catalog rules give.
fn check_fee_rows(rows: &Value, lines: &[Line], insurance: InsuranceType) -> Split {
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("result is not a list: {rows}"));
    assert_eq!(rows.len(), lines.len(), "one result row per line: {rows:?}");
    let mut sum = Split::default();
    for (row, line) in rows.iter().zip(lines) {
        let what = format!("result row {}", line.sn);
        assert_eq!(row["feedetl_sn"], json!(line.sn), "{what}");
        let amount = money(&row["det_item_fee_sumamt"], "det_item_fee_sumamt");
        let split = Split {
            full_self_pay: money(&row["fulamt_ownpay_amt"], "fulamt_ownpay_amt"),
            over_cap: money(&row["overlmt_amt"], "overlmt_amt"),
            first_self_pay: money(&row["preselfpay_amt"], "preselfpay_amt"),
            policy_scope: money(&row["inscp_scp_amt"], "inscp_scp_amt"),
        };
        assert_eq!(amount, line.amount, "{what}: det_item_fee_sumamt");
        assert_eq!(
            amount,
            split.full_self_pay + split.over_cap + split.first_self_pay + split.policy_scope,
            "{what}: det_item_fee_sumamt = fulamt_ownpay_amt + overlmt_amt + preselfpay_amt + inscp_scp_amt: {row}"
        );
        assert_eq!(split, line.expected_split(insurance), "{what}: {row}");
        assert_eq!(row["cnt"], quantity_json(line.quantity), "{what}: cnt");
        assert_eq!(row["pric"], price_json(line.price), "{what}: pric");
        assert_eq!(row["chrgitm_lv"], json!(line.item.class.code()), "{what}: chrgitm_lv");
        assert_eq!(
            row["selfpay_prop"],
            ratio_json(line.selfpay_prop(insurance)),
            "{what}: selfpay_prop"
        );
        assert_eq!(
            row["pric_uplmt_amt"],
            line.item.price_cap.map_or(Value::Null, price_json),
            "{what}: pric_uplmt_amt"
        );
        assert_eq!(row["lmt_used_flag"], "0", "{what}: lmt_used_flag");
        let memo = str_of(row, "memo");
        assert_eq!(
            line.item.class == ChargeClass::C,
            !memo.is_empty(),
            "{what}: memo {memo:?}"
        );
        sum.full_self_pay += split.full_self_pay;
        sum.over_cap += split.over_cap;
        sum.first_self_pay += split.first_self_pay;
        sum.policy_scope += split.policy_scope;
    }
    sum
}

// =============================================================================================
// Transactions.

fn person_info(his: &His, p: &DemoPerson) -> Value {
    his.call(
        "1101",
        json!({ "data": { "psn_cert_type": "01", "certno": p.certno, "psn_name": p.name } }),
    )
    .output()
    .clone()
}

/// The account balance 1101 reports.
fn balance(his: &His, p: &DemoPerson) -> Money {
    money(&person_info(his, p)["insuinfo"][0]["balc"], "balc")
}

/// Checks a 1101 answer field by field against the demo person.
fn check_person_info(out: &Value, p: &DemoPerson, balance: Money) {
    assert_eq!(
        out["baseinfo"],
        json!({
            "psn_no": p.person_no,
            "psn_cert_type": "01",
            "certno": p.certno,
            "psn_name": p.name,
            "gend": p.sex.code(),
            "naty": "01",
            "brdy": p.birth_date.format("%Y-%m-%d").to_string(),
            "age": age_on(p.birth_date, today()),
        }),
        "baseinfo"
    );
    assert_eq!(
        out["insuinfo"],
        json!([{
            "balc": amount_json(balance),
            "insutype": p.insurance.code(),
            "psn_type": p.person_type.to_string(),
            "psn_insu_stas": "1",
            "psn_insu_date": p.enrolled_on.format("%Y-%m-%d").to_string(),
            "paus_insu_date": null,
            "cvlserv_flag": if p.civil_servant { "1" } else { "0" },
            "insuplc_admdvs": DEMO_ADMDVS,
            "emp_name": p.employer_name,
        }]),
        "insuinfo"
    );
    let groups: Vec<&str> = p.groups.iter().map(|g| g.code()).collect();
    let idet: Vec<&str> = out["idetinfo"]
        .as_array()
        .expect("idetinfo is a list")
        .iter()
        .map(|i| str_of(i, "psn_idet_type"))
        .collect();
    assert_eq!(idet, groups, "idetinfo");
}

/// 2201 门诊挂号: the new visit's `mdtrt_id`.
fn register(his: &His, p: &DemoPerson, ipt_otp_no: &str) -> String {
    let out = his
        .call(
            "2201",
            json!({ "data": {
                "psn_no": p.person_no, "insutype": p.insurance.code(), "begntime": now_text(),
                "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "ipt_otp_no": ipt_otp_no,
                "atddr_no": "D500101000001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
            } }),
        )
        .output()
        .clone();
    let mdtrt_id = str_of(&out["data"], "mdtrt_id").to_owned();
    assert_eq!(mdtrt_id.len(), 30, "mdtrt_id {mdtrt_id}");
    assert!(mdtrt_id.starts_with(DEMO_ADMDVS), "mdtrt_id {mdtrt_id}");
    assert_eq!(
        out,
        json!({ "data": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "ipt_otp_no": ipt_otp_no } })
    );
    mdtrt_id
}

fn diagnosis() -> Value {
    json!({
        "diag_type": "1", "diag_srt_no": 1, "diag_code": "J06.900", "diag_name": "急性上呼吸道感染",
        "diag_dept": "内科", "dise_dor_no": "D500101000001", "dise_dor_name": "李医生",
        "diag_time": now_text(), "vali_flag": "1",
    })
}

/// 2203 门诊就诊信息上传.
fn upload_visit_info(his: &His, p: &DemoPerson, mdtrt_id: &str) {
    his.call(
        "2203",
        json!({
            "mdtrtinfo": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "med_type": "11", "begntime": now_text(),
                           "main_cond_dscr": "咳嗽三天", "dise_codg": "", "dise_name": "" },
            "diseinfo": [diagnosis()],
        }),
    )
    .done();
}

/// 2204 门诊费用明细上传, checking the answer's rows.
fn upload_outpatient_fees(his: &His, p: &DemoPerson, mdtrt_id: &str, lines: &[Line], as_strings: bool) -> Split {
    let details: Vec<Value> = lines
        .iter()
        .map(|l| l.outpatient_detail(mdtrt_id, &p.person_no, as_strings))
        .collect();
    let out = his.call("2204", json!({ "feedetail": details })).output().clone();
    check_fee_rows(&out["result"], lines, p.insurance)
}

/// The lines of an outpatient visit: enough policy-scope cost to pass the deductible.
fn outpatient_lines(items: &Items, prefix: &str) -> Vec<Line> {
    vec![
        Line::new(&format!("{prefix}1"), &items.a, 3),
        Line::new(&format!("{prefix}2"), &items.b, 1),
        Line::new(&format!("{prefix}3"), &items.c, 1),
        Line::new(&format!("{prefix}4"), &items.capped, 1),
    ]
}

fn settle_input(p: &DemoPerson, mdtrt_id: &str, total: Money, use_account: bool) -> Value {
    json!({ "data": {
        "psn_no": p.person_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "med_type": "11",
        "medfee_sumamt": amount_json(total), "psn_setlway": "01", "mdtrt_id": mdtrt_id, "chrg_bchno": "B1",
        "acct_used_flag": if use_account { "1" } else { "0" }, "insutype": p.insurance.code(),
    } })
}

/// A registered outpatient visit with fees uploaded: its id and total.
fn outpatient_visit(his: &His, p: &DemoPerson, items: &Items, prefix: &str) -> (String, Money) {
    let mdtrt_id = register(his, p, &format!("OTP-{prefix}"));
    upload_visit_info(his, p, &mdtrt_id);
    let lines = outpatient_lines(items, prefix);
    upload_outpatient_fees(his, p, &mdtrt_id, &lines, false);
    (mdtrt_id, total(&lines))
}

/// 2207 of a prepared visit: the answer's output.
fn settle_outpatient(his: &His, p: &DemoPerson, mdtrt_id: &str, total: Money) -> Reply {
    his.call("2207", settle_input(p, mdtrt_id, total, true))
}

fn query_settlement(his: &His, p: &DemoPerson, mdtrt_id: &str, setl_id: &str) -> Value {
    his.call(
        "5203",
        json!({ "data": { "psn_no": p.person_no, "setl_id": setl_id, "mdtrt_id": mdtrt_id } }),
    )
    .output()
    .clone()
}

fn cancel_input(p: &DemoPerson, mdtrt_id: &str, setl_id: &str) -> Value {
    json!({ "data": { "setl_id": setl_id, "mdtrt_id": mdtrt_id, "psn_no": p.person_no } })
}

/// 3201 对总账 over yesterday to tomorrow: `stmt_rslt` and its description.
fn reconcile(his: &His, insurance: InsuranceType, clr_type: &str, count: i64, totals: Totals) -> (String, String) {
    let day = chrono::Duration::days(1);
    let out = his
        .call(
            "3201",
            json!({ "data": {
                "insutype": insurance.code(), "clr_type": clr_type, "setl_optins": DEMO_ADMDVS,
                "stmt_begndate": (today() - day).to_string(), "stmt_enddate": (today() + day).to_string(),
                "medfee_sumamt": amount_json(totals.medfee), "fund_pay_sumamt": amount_json(totals.fund),
                "acct_pay": amount_json(totals.account), "fixmedins_setl_cnt": count,
            } }),
        )
        .output()
        .clone();
    assert_eq!(out["stmtinfo"]["setl_optins"], DEMO_ADMDVS);
    (
        str_of(&out["stmtinfo"], "stmt_rslt").to_owned(),
        str_of(&out["stmtinfo"], "stmt_rslt_dscr").to_owned(),
    )
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    medfee: Money,
    fund: Money,
    account: Money,
}

impl Totals {
    fn of(setlinfo: &Value) -> Totals {
        Totals {
            medfee: money(&setlinfo["medfee_sumamt"], "medfee_sumamt"),
            fund: money(&setlinfo["fund_pay_sumamt"], "fund_pay_sumamt"),
            account: money(&setlinfo["acct_pay"], "acct_pay"),
        }
    }

    fn plus(self, other: Totals) -> Totals {
        Totals {
            medfee: self.medfee + other.medfee,
            fund: self.fund + other.fund,
            account: self.account + other.account,
        }
    }
}

/// Reconciles with the client's own totals: balanced, and described exactly.
fn assert_reconciles(his: &His, insurance: InsuranceType, clr_type: &str, count: i64, totals: Totals) {
    let (result, description) = reconcile(his, insurance, clr_type, count, totals);
    assert_eq!(result, "0", "{description}");
    assert_eq!(
        description,
        format!(
            "对账平:{count}笔,医疗费总额{},基金支付{},个人账户{}",
            totals.medfee, totals.fund, totals.account
        )
    );
}

// =============================================================================================
// Settlement answers (spec §5).

const FUND_FIELDS: [&str; 8] = [
    "hifp_pay",
    "cvlserv_pay",
    "hifes_pay",
    "hifmi_pay",
    "hifob_pay",
    "maf_pay",
    "hifdm_pay",
    "oth_pay",
];

const AMOUNT_FIELDS: [&str; 21] = [
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
    "hifdm_pay",
    "hosp_part_amt",
    "oth_pay",
    "fund_pay_sumamt",
    "psn_part_amt",
    "acct_pay",
    "psn_cash_pay",
    "balc",
    "acct_mulaid_pay",
];

fn field_of(fund: SettlementField) -> &'static str {
    match fund {
        SettlementField::PooledFund => "hifp_pay",
        SettlementField::CivilServant => "cvlserv_pay",
        SettlementField::EnterpriseSupplementary => "hifes_pay",
        SettlementField::CriticalIllness => "hifmi_pay",
        SettlementField::LargeExpense => "hifob_pay",
        SettlementField::MedicalAssistance => "maf_pay",
        SettlementField::DisabledVeteran => "hifdm_pay",
        SettlementField::PersonalAccount => "acct_pay",
        SettlementField::Other => "oth_pay",
    }
}

/// Every amount of a `setlinfo`, by field.
fn amounts(setlinfo: &Value) -> BTreeMap<&'static str, Money> {
    AMOUNT_FIELDS.iter().map(|&k| (k, money(&setlinfo[k], k))).collect()
}

/// What a settlement answer is expected to say besides its amounts.
struct SetlExpect<'a> {
    person: &'a DemoPerson,
    mdtrt_id: &'a str,
    /// Empty for a pre-settlement.
    setl_id: &'a str,
    msgid: &'a str,
    med_type: &'a str,
    clr_type: &'a str,
    mdtrt_cert_type: &'a str,
}

/// Checks the accounting identities of a settlement answer and the fields it echoes; returns
/// its amounts.
fn check_settlement(out: &Value, expect: &SetlExpect) -> BTreeMap<&'static str, Money> {
    let s = &out["setlinfo"];
    let a = amounts(s);
    let fund_sum: Money = FUND_FIELDS.iter().map(|k| a[k]).sum();
    assert_eq!(
        a["fund_pay_sumamt"], fund_sum,
        "fund_pay_sumamt = sum of the fund fields: {s}"
    );
    assert_eq!(a["hosp_part_amt"], Money::ZERO, "hosp_part_amt: {s}");
    assert_eq!(
        a["medfee_sumamt"],
        a["fund_pay_sumamt"] + a["psn_part_amt"],
        "medfee_sumamt = fund_pay_sumamt + psn_part_amt: {s}"
    );
    assert_eq!(
        a["psn_part_amt"],
        a["acct_pay"] + a["psn_cash_pay"],
        "psn_part_amt = acct_pay + psn_cash_pay: {s}"
    );
    assert_eq!(
        a["inscp_scp_amt"],
        a["medfee_sumamt"] - a["fulamt_ownpay_amt"] - a["overlmt_selfpay"] - a["preselfpay_amt"],
        "inscp_scp_amt = medfee_sumamt − fulamt_ownpay_amt − overlmt_selfpay − preselfpay_amt: {s}"
    );
    assert!(a.values().all(|m| !m.is_negative()), "no negative amount: {s}");

    // setldetail: one row per paying fund, summing to fund_pay_sumamt field by field.
    let rows = out["setldetail"]
        .as_array()
        .unwrap_or_else(|| panic!("setldetail: {out}"));
    let mut by_field: BTreeMap<&str, Money> = BTreeMap::new();
    for row in rows {
        let code = str_of(row, "fund_pay_type");
        let fund = FundPayType::ALL
            .iter()
            .find(|f| f.code() == code)
            .unwrap_or_else(|| panic!("unknown fund_pay_type {code}"));
        assert_eq!(row["fund_pay_type_name"], fund.name_zh(), "{row}");
        let paid = money(&row["fund_payamt"], "fund_payamt");
        money(&row["inscp_scp_amt"], "setldetail.inscp_scp_amt");
        money(&row["crt_payb_lmt_amt"], "crt_payb_lmt_amt");
        let stages: Value = serde_json::from_str(str_of(row, "setl_proc_info")).expect("setl_proc_info is JSON text");
        assert!(stages.is_array(), "setl_proc_info: {row}");
        *by_field.entry(field_of(fund.settlement_field())).or_default() += paid;
    }
    let detail_sum: Money = by_field
        .iter()
        .filter(|(k, _)| **k != "acct_pay")
        .map(|(_, m)| *m)
        .sum();
    assert_eq!(
        detail_sum, a["fund_pay_sumamt"],
        "setldetail sums to fund_pay_sumamt: {out}"
    );
    for field in FUND_FIELDS {
        assert_eq!(
            by_field.get(field).copied().unwrap_or_default(),
            a[field],
            "setldetail rows of {field}: {out}"
        );
    }

    // What the answer echoes.
    let p = expect.person;
    for (key, value) in [
        ("mdtrt_id", expect.mdtrt_id),
        ("setl_id", expect.setl_id),
        ("psn_no", p.person_no.as_str()),
        ("psn_name", p.name.as_str()),
        ("psn_cert_type", "01"),
        ("certno", p.certno.as_str()),
        ("gend", p.sex.code()),
        ("naty", "01"),
        ("insutype", p.insurance.code()),
        ("cvlserv_flag", if p.civil_servant { "1" } else { "0" }),
        ("mdtrt_cert_type", expect.mdtrt_cert_type),
        ("med_type", expect.med_type),
        ("medins_setl_id", expect.msgid),
        ("clr_optins", DEMO_ADMDVS),
        ("clr_way", "01"),
        ("clr_type", expect.clr_type),
    ] {
        assert_eq!(s[key], json!(value), "setlinfo.{key}: {s}");
    }
    assert_eq!(s["psn_type"], json!(p.person_type.to_string()));
    assert_eq!(s["brdy"], json!(p.birth_date.format("%Y-%m-%d").to_string()));
    assert!(s["age"].is_u64(), "age: {s}");
    let setl_time = str_of(s, "setl_time");
    assert!(
        chrono::NaiveDateTime::parse_from_str(setl_time, "%Y-%m-%d %H:%M:%S").is_ok(),
        "setl_time {setl_time}"
    );
    a
}

/// The 2023 demo policy for an employee in service at a 三级 hospital, first visit of the year:
/// 门诊共济 deductible 400 per visit, then 50%; the account pays the personal part as far as it
/// reaches. Returns (act_pay_dedc, hifp_pay, acct_pay).
fn employee_outpatient_expected(policy_scope: Money, medfee: Money, balance: Money) -> (Money, Money, Money) {
    let deductible = policy_scope.min(Money::from_yuan(400));
    let fund = (policy_scope - deductible).times(Ratio::percent(50), Rounding::HalfUp);
    let account = (medfee - fund).min(balance);
    (deductible, fund, account)
}

// =============================================================================================
// Scenarios.

/// 1101 → 2201 → 2203 → 2204 → 2206 → 2207 → 5203 → 2208 → 2207 → 3201.
fn outpatient_flow(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0); // 三级 (hosp_lv 01)
    let items = items();
    let p = employee_with_account();

    // 1101 by certno.
    let info = person_info(&his, &p);
    check_person_info(&info, &p, p.account_balance);

    // 2201, 2203, 2204.
    let mdtrt_id = register(&his, &p, "OTP-1");
    upload_visit_info(&his, &p, &mdtrt_id);
    let lines = outpatient_lines(&items, "L");
    let split = upload_outpatient_fees(&his, &p, &mdtrt_id, &lines, false);
    let medfee = total(&lines);
    assert!(!split.full_self_pay.is_zero() && !split.over_cap.is_zero() && !split.first_self_pay.is_zero());

    // 2206: pre-settlement computes without changing anything.
    let pre = his.call("2206", settle_input(&p, &mdtrt_id, medfee, true));
    let pre_amounts = check_settlement(
        pre.output(),
        &SetlExpect {
            person: &p,
            mdtrt_id: &mdtrt_id,
            setl_id: "",
            msgid: &pre.msgid,
            med_type: "11",
            clr_type: "11",
            mdtrt_cert_type: "02",
        },
    );
    assert_eq!(
        balance(&his, &p),
        p.account_balance,
        "a pre-settlement leaves the account alone"
    );

    // 2207.
    let settled = settle_outpatient(&his, &p, &mdtrt_id, medfee);
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    assert_eq!(setl_id.len(), 30, "setl_id {setl_id}");
    let a = check_settlement(
        settled.output(),
        &SetlExpect {
            person: &p,
            mdtrt_id: &mdtrt_id,
            setl_id: &setl_id,
            msgid: &settled.msgid,
            med_type: "11",
            clr_type: "11",
            mdtrt_cert_type: "02",
        },
    );
    assert_eq!(pre_amounts, a, "pre-settlement and settlement amounts agree");
    // The line splits add up to the settlement's.
    assert_eq!(a["medfee_sumamt"], medfee);
    assert_eq!(a["fulamt_ownpay_amt"], split.full_self_pay);
    assert_eq!(a["overlmt_selfpay"], split.over_cap);
    assert_eq!(a["preselfpay_amt"], split.first_self_pay);
    assert_eq!(a["inscp_scp_amt"], split.policy_scope);
    // The policy's numbers.
    let (deductible, fund, account) = employee_outpatient_expected(split.policy_scope, medfee, p.account_balance);
    assert_eq!(a["act_pay_dedc"], deductible, "act_pay_dedc");
    assert_eq!(a["hifp_pay"], fund, "hifp_pay");
    assert_eq!(a["fund_pay_sumamt"], fund, "fund_pay_sumamt");
    assert_eq!(
        settled.output()["setlinfo"]["pool_prop_selfpay"],
        ratio_json(Ratio::percent(50))
    );
    assert_eq!(a["acct_pay"], account, "acct_pay");
    assert!(
        fund > Money::ZERO && account > Money::ZERO,
        "fund and account both pay: {a:?}"
    );
    assert_eq!(a["balc"], p.account_balance - account, "balc after settlement");
    let rows = settled.output()["setldetail"].as_array().expect("setldetail");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["fund_pay_type"], "310100");

    // 1101 sees the account debited.
    assert_eq!(balance(&his, &p), p.account_balance - account);

    // 5203 answers the same setlinfo, plus the query's own fields.
    let queried = query_settlement(&his, &p, &mdtrt_id, &setl_id);
    let original = settled.output()["setlinfo"].as_object().expect("setlinfo");
    for (key, value) in original {
        assert_eq!(&queried["setlinfo"][key], value, "5203 setlinfo.{key}");
    }
    assert_eq!(queried["setlinfo"]["refd_setl_flag"], "0");
    assert_eq!(queried["setlinfo"]["fixmedins_code"], json!(his.code()));
    assert_eq!(queried["setldetail"], settled.output()["setldetail"]);

    // 2208 answers the settlement it cancels, and restores the account.
    let cancelled = his.call("2208", cancel_input(&p, &mdtrt_id, &setl_id));
    assert_eq!(
        cancelled.output(),
        settled.output(),
        "2208 answers the cancelled settlement"
    );
    assert_eq!(balance(&his, &p), p.account_balance, "2208 restores the account");
    let queried = query_settlement(&his, &p, &mdtrt_id, &setl_id);
    assert_eq!(queried["setlinfo"]["refd_setl_flag"], "1");
    let (result, description) = reconcile(&his, p.insurance, "11", 0, Totals::default());
    assert_eq!(result, "0", "nothing in force after 2208: {description}");

    // 2207 again: the same visit settles again, to the same amounts (accumulators restored).
    let again = settle_outpatient(&his, &p, &mdtrt_id, medfee);
    let setl_id_2 = str_of(&again.output()["setlinfo"], "setl_id").to_owned();
    assert_ne!(setl_id_2, setl_id, "a new settlement id");
    let a2 = check_settlement(
        again.output(),
        &SetlExpect {
            person: &p,
            mdtrt_id: &mdtrt_id,
            setl_id: &setl_id_2,
            msgid: &again.msgid,
            med_type: "11",
            clr_type: "11",
            mdtrt_cert_type: "02",
        },
    );
    assert_eq!(a2, a, "settling again after 2208 gives the same amounts");
    assert_eq!(balance(&his, &p), p.account_balance - account);

    // 3201: the client's own totals balance; a wrong count does not.
    let totals = Totals::of(&again.output()["setlinfo"]);
    assert_reconciles(&his, p.insurance, "11", 1, totals);
    let (result, description) = reconcile(&his, p.insurance, "11", 2, totals);
    assert_eq!(result, "1");
    assert_eq!(description, "对账不平:结算笔数 中心1 机构2");
    // Another insurance type, another clearing type: nothing there.
    let (result, _) = reconcile(&his, InsuranceType::ResidentBasic, "11", 0, Totals::default());
    assert_eq!(result, "0");
    let (result, _) = reconcile(&his, p.insurance, "21", 1, totals);
    assert_eq!(result, "1", "an outpatient settlement is not in clearing type 21");
}

/// The same msgid twice on 2207: the same bytes, one settlement. Also when the two arrive at
/// the same moment, and after a restart.
fn settle_replay(db: &str) {
    let items = items();
    let p = employee_with_account();
    let (mdtrt_id, medfee, msgid, first, totals, totals_2);
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        (mdtrt_id, medfee) = outpatient_visit(&his, &p, &items, "R");
        msgid = his.msgid();
        first = his.call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true));
        totals = Totals::of(&first.output()["setlinfo"]);
        let second = his.call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true));
        assert_eq!(
            first.text(),
            second.text(),
            "a repeated msgid answers byte for byte the same"
        );
        assert_eq!(balance(&his, &p), p.account_balance - totals.account, "debited once");
        assert_reconciles(&his, p.insurance, "11", 1, totals);

        // Again after other messages: now from the store, not from the batch just committed.
        let third = his.call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true));
        assert_eq!(first.raw, third.raw);

        // Two copies of one message at once (a HIS retrying on a timeout while the first is in
        // flight): both get the one answer.
        let (mdtrt_id_2, medfee_2) = outpatient_visit(&his, &p, &items, "S");
        let msgid_2 = his.msgid();
        let envelope = his.envelope("2207", &msgid_2, settle_input(&p, &mdtrt_id_2, medfee_2, true));
        let body = serde_json::to_vec(&envelope).expect("serialize");
        let barrier = Barrier::new(2);
        let (a, b) = std::thread::scope(|scope| {
            let send = || {
                barrier.wait();
                his.post(&body)
            };
            let a = scope.spawn(send);
            let b = scope.spawn(send);
            (a.join().expect("first copy"), b.join().expect("second copy"))
        });
        assert_eq!(a.raw, b.raw, "both copies get the same answer");
        totals_2 = Totals::of(&a.output()["setlinfo"]);
        assert_eq!(a.output()["setlinfo"]["medins_setl_id"], json!(msgid_2));
        assert_reconciles(&his, p.insurance, "11", 2, totals.plus(totals_2));
        assert_eq!(
            balance(&his, &p),
            p.account_balance - totals.account - totals_2.account,
            "each visit debited once"
        );
    }

    // After a restart the stored answer is replayed byte for byte, to its institution only.
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let replayed = his.call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true));
    assert_eq!(replayed.raw, first.raw, "replayed from the store after a restart");
    assert_eq!(balance(&his, &p), p.account_balance - totals.account - totals_2.account);
    let other = His::new(&server, 1);
    other
        .call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true))
        .refused(&msgid_layout_refusal(other.code()));
}

/// What a state-changing message whose msgid is not the caller's own layout is told.
fn msgid_layout_refusal(code: &str) -> String {
    format!("msgid: 报文ID应为定点医药机构编号{code}加14位时间(yyyyMMddHHmmss)和4位顺序号,如{code}202601011230450001")
}

/// A msgid another institution has just used is refused, not answered with that institution's
/// answer, and the refusal does not say the msgid is in use: a state-changing msgid must begin
/// with the caller's own code, so another institution's never is.
fn msgid_of_another_institution(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let other = His::new(&server, 1);
    let p = employee_with_account();
    let msgid = his.msgid();
    let input = json!({ "data": {
        "psn_no": p.person_no, "insutype": p.insurance.code(), "begntime": now_text(),
        "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "ipt_otp_no": "OTP-M",
        "atddr_no": "D500101000001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
    } });
    his.call_with_msgid("2201", &msgid, input.clone()).output();
    other
        .call_with_msgid("2201", &msgid, input)
        .refused(&msgid_layout_refusal(other.code()));
}

fn admission_input(p: &DemoPerson, ipt_no: &str) -> Value {
    json!({
        "mdtrtinfo": {
            "psn_no": p.person_no, "insutype": p.insurance.code(), "coner_name": "家属", "tel": "13800000000",
            "begntime": days_ago_text(2), "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "med_type": "21",
            "ipt_no": ipt_no, "medrcdno": ipt_no, "atddr_no": "D500101000001", "chfpdr_name": "李医生",
            "adm_diag_dscr": "社区获得性肺炎", "adm_dept_codg": "A03", "adm_dept_name": "呼吸内科", "adm_bed": "12",
            "dscg_maindiag_code": "J18.900", "dscg_maindiag_name": "肺炎",
        },
        "diseinfo": [{
            "psn_no": p.person_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1, "diag_code": "J18.900",
            "diag_name": "肺炎", "diag_dept": "呼吸内科", "dise_dor_no": "D500101000001", "dise_dor_name": "李医生",
            "diag_time": days_ago_text(2),
        }],
    })
}

fn inpatient_settle_input(p: &DemoPerson, mdtrt_id: &str, total: Money) -> Value {
    json!({ "data": {
        "psn_no": p.person_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno,
        "medfee_sumamt": amount_json(total), "psn_setlway": "01", "mdtrt_id": mdtrt_id,
        "insutype": p.insurance.code(), "acct_used_flag": "0", "mid_setl_flag": "0",
    } })
}

fn upload_inpatient_fees(his: &His, p: &DemoPerson, mdtrt_id: &str, lines: &[Line]) -> Reply {
    let details: Vec<Value> = lines
        .iter()
        .map(|l| l.inpatient_detail(mdtrt_id, &p.person_no))
        .collect();
    his.call("2301", json!({ "feedetail": details }))
}

/// 2401 → 2301 (with a refund) → 2302 → 2303 → 2304 refused before 2402 → 2402 → 2304 → 2305 →
/// 2405.
fn inpatient_flow(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0); // 三级
    let items = items();
    let p = resident_adult();

    // 2401.
    let out = his.call("2401", admission_input(&p, "IPT-1")).output().clone();
    let mdtrt_id = str_of(&out["result"], "mdtrt_id").to_owned();
    assert_eq!(
        out,
        json!({ "result": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "ipt_no": "IPT-1" } })
    );

    // 2301: several lines, then a refund of one unit of the first.
    let l1 = Line::new("IP1", &items.big_a, 3);
    let l2 = Line::new("IP2", &items.b, 2);
    let l3 = Line::new("IP3", &items.c, 1);
    let l4 = Line::new("IP4", &items.capped, 2);
    let uploaded = upload_inpatient_fees(&his, &p, &mdtrt_id, &[l1.clone(), l2.clone(), l3.clone(), l4.clone()]);
    check_fee_rows(
        &uploaded.output()["result"],
        &[l1.clone(), l2.clone(), l3.clone(), l4.clone()],
        p.insurance,
    );
    let r1 = Line::refund("IP5", &l1, 1);
    let refunded = upload_inpatient_fees(&his, &p, &mdtrt_id, std::slice::from_ref(&r1));
    check_fee_rows(&refunded.output()["result"], std::slice::from_ref(&r1), p.insurance);

    // Refunds beyond what is left of the line are refused, also when spread over one upload.
    let too_many = upload_inpatient_fees(&his, &p, &mdtrt_id, &[Line::refund("IP6", &l1, 3)]);
    too_many.refused("feedetail[0].cnt: 退费数量超过原明细数量");
    let split_over = upload_inpatient_fees(
        &his,
        &p,
        &mdtrt_id,
        &[Line::refund("IP6", &l1, 1), Line::refund("IP7", &l1, 2)],
    );
    split_over.refused("feedetail[1].cnt: 退费数量超过原明细数量");
    // A refund must name a line of the visit.
    let mut orphan = Line::refund("IP8", &l1, 1);
    orphan.refund_of = Some("NOPE".into());
    upload_inpatient_fees(&his, &p, &mdtrt_id, &[orphan])
        .refused("feedetail[0].init_feedetl_sn: 原费用流水号NOPE不存在");

    // 2302: revoke one line; it cannot be revoked twice.
    let revoke = json!({ "data": [{ "feedetl_sn": "IP3", "mdtrt_id": mdtrt_id, "psn_no": p.person_no }] });
    his.call("2302", revoke.clone()).done();
    his.call("2302", revoke)
        .refused("feedetl_sn: 未结算的费用明细IP3不存在");
    let fees = his
        .call(
            "5204",
            json!({ "data": { "psn_no": p.person_no, "mdtrt_id": mdtrt_id } }),
        )
        .output()
        .clone();
    let sns: Vec<&str> = fees["feedetail"]
        .as_array()
        .expect("feedetail")
        .iter()
        .map(|f| str_of(f, "feedetl_sn"))
        .collect();
    assert_eq!(sns, ["IP1", "IP2", "IP4", "IP5"], "what remains to settle");

    // What the visit now costs: two units of IP1, IP2 and IP4.
    let net = [Line::new("IP1", &items.big_a, 2), l2.clone(), l4.clone()];
    let medfee = total(&net);
    let net_split = net.iter().fold(Split::default(), |acc, l| {
        let s = l.expected_split(p.insurance);
        Split {
            full_self_pay: acc.full_self_pay + s.full_self_pay,
            over_cap: acc.over_cap + s.over_cap,
            first_self_pay: acc.first_self_pay + s.first_self_pay,
            policy_scope: acc.policy_scope + s.policy_scope,
        }
    });

    // 2303 pre-settles the open stay.
    let pre = his.call("2303", inpatient_settle_input(&p, &mdtrt_id, medfee));
    let pre_amounts = check_settlement(
        pre.output(),
        &SetlExpect {
            person: &p,
            mdtrt_id: &mdtrt_id,
            setl_id: "",
            msgid: &pre.msgid,
            med_type: "21",
            clr_type: "21",
            mdtrt_cert_type: "02",
        },
    );
    assert_eq!(pre_amounts["medfee_sumamt"], medfee);
    assert_eq!(pre_amounts["fulamt_ownpay_amt"], net_split.full_self_pay);
    assert_eq!(pre_amounts["overlmt_selfpay"], net_split.over_cap);
    assert_eq!(pre_amounts["preselfpay_amt"], net_split.first_self_pay);
    assert_eq!(pre_amounts["inscp_scp_amt"], net_split.policy_scope);
    // The 2023 demo policy for a first-tier resident at a 三级 hospital: deductible 800 per
    // admission, then 40%.
    let deductible = net_split.policy_scope.min(Money::from_yuan(800));
    let fund = (net_split.policy_scope - deductible).times(Ratio::percent(40), Rounding::HalfUp);
    assert_eq!(pre_amounts["act_pay_dedc"], deductible);
    assert_eq!(pre_amounts["hifp_pay"], fund);
    assert_eq!(pre_amounts["fund_pay_sumamt"], fund);
    assert_eq!(pre_amounts["acct_pay"], Money::ZERO);
    assert!(fund > Money::ZERO);

    // 2304 before discharge is refused, and says why.
    his.call("2304", inpatient_settle_input(&p, &mdtrt_id, medfee))
        .refused("住院结算前须先办理出院(中途结算请置mid_setl_flag=1)");

    // 2402.
    his.call(
        "2402",
        json!({
            "dscginfo": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "insutype": p.insurance.code(),
                          "endtime": now_text(), "dscg_dept_codg": "A03", "dscg_dept_name": "呼吸内科", "dscg_way": "1" },
            "diseinfo": [{
                "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1,
                "diag_code": "J18.900", "diag_name": "肺炎", "diag_dept": "呼吸内科", "dise_dor_no": "D500101000001",
                "dise_dor_name": "李医生", "diag_time": now_text(),
            }],
        }),
    )
    .done();
    upload_inpatient_fees(&his, &p, &mdtrt_id, &[Line::new("IP9", &items.a, 1)])
        .refused("就诊状态为已出院,不能上传费用明细");

    // 2304.
    let settled = his.call("2304", inpatient_settle_input(&p, &mdtrt_id, medfee));
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    let a = check_settlement(
        settled.output(),
        &SetlExpect {
            person: &p,
            mdtrt_id: &mdtrt_id,
            setl_id: &setl_id,
            msgid: &settled.msgid,
            med_type: "21",
            clr_type: "21",
            mdtrt_cert_type: "02",
        },
    );
    assert_eq!(a, pre_amounts, "pre-settlement and settlement agree");
    assert_reconciles(&his, p.insurance, "21", 1, Totals::of(&settled.output()["setlinfo"]));

    // 2305 answers the cancelled settlement.
    let cancelled = his.call("2305", cancel_input(&p, &mdtrt_id, &setl_id));
    assert_eq!(cancelled.output(), settled.output());
    assert_reconciles(&his, p.insurance, "21", 0, Totals::default());

    // 2405 undoes the discharge: the stay is open again and takes fees.
    his.call(
        "2405",
        json!({ "data": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no } }),
    )
    .done();
    let more = Line::new("IP9", &items.a, 1);
    let added = upload_inpatient_fees(&his, &p, &mdtrt_id, std::slice::from_ref(&more));
    check_fee_rows(&added.output()["result"], &[more], p.insurance);
    his.call(
        "2405",
        json!({ "data": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no } }),
    )
    .refused("就诊状态为在诊,不能办理");
}

fn reversal_input(p: &DemoPerson, omsgid: &str, oinfno: &str) -> Value {
    json!({ "data": { "psn_no": p.person_no, "omsgid": omsgid, "oinfno": oinfno } })
}

/// 2601 by omsgid of a 2207, twice, and of messages it cannot reverse.
fn reversal(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let items = items();
    let p = employee_with_account();

    let (mdtrt_id, medfee) = outpatient_visit(&his, &p, &items, "V");
    let settled = settle_outpatient(&his, &p, &mdtrt_id, medfee);
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    let totals = Totals::of(&settled.output()["setlinfo"]);
    assert!(totals.account > Money::ZERO);
    assert_reconciles(&his, p.insurance, "11", 1, totals);

    // Another institution cannot reverse it, nor learn anything about it by trying.
    let other = His::new(&server, 1);
    let unknown_to_other = format!("omsgid: 原交易2207(报文{})未成功或不存在,无需冲正", settled.msgid);
    other
        .call("2601", reversal_input(&p, &settled.msgid, "2207"))
        .refused(&unknown_to_other);
    assert_reconciles(&his, p.insurance, "11", 1, totals);

    // Reverse it by the msgid the HIS sent (as after a timeout, without the setl_id).
    let reversal_msgid = his.msgid();
    let first = his.call_with_msgid("2601", &reversal_msgid, reversal_input(&p, &settled.msgid, "2207"));
    first.done();
    assert_eq!(balance(&his, &p), p.account_balance, "the account is restored");
    assert_eq!(
        query_settlement(&his, &p, &mdtrt_id, &setl_id)["setlinfo"]["refd_setl_flag"],
        "1"
    );
    assert_reconciles(&his, p.insurance, "11", 0, Totals::default());

    // Sent again: as a retry of the same message (the same answer), and as a new message
    // (reversal is idempotent).
    let retry = his.call_with_msgid("2601", &reversal_msgid, reversal_input(&p, &settled.msgid, "2207"));
    assert_eq!(retry.raw, first.raw);
    his.call("2601", reversal_input(&p, &settled.msgid, "2207")).done();
    assert_eq!(balance(&his, &p), p.account_balance, "credited once");
    assert_reconciles(&his, p.insurance, "11", 0, Totals::default());
    other
        .call("2601", reversal_input(&p, &settled.msgid, "2207"))
        .refused(&unknown_to_other);

    // The reversed settlement cannot be cancelled again; the visit can be settled again.
    his.call("2208", cancel_input(&p, &mdtrt_id, &setl_id))
        .refused(&format!("结算{setl_id}已撤销"));
    let again = settle_outpatient(&his, &p, &mdtrt_id, medfee);
    let totals_again = Totals::of(&again.output()["setlinfo"]);
    assert_eq!(totals_again, totals);
    assert_reconciles(&his, p.insurance, "11", 1, totals);

    // Nothing to reverse.
    let unknown = format!("{}{}9999", his.code(), "20200101000000");
    his.call("2601", reversal_input(&p, &unknown, "2207"))
        .refused(&format!("omsgid: 原交易2207(报文{unknown})未成功或不存在,无需冲正"));
    his.call("2601", reversal_input(&p, &again.msgid, "2204"))
        .refused("oinfno: 冲正交易仅适用于结算交易(2207、2304),不适用于2204");
    assert_reconciles(&his, p.insurance, "11", 1, totals);
}

/// Transactions out of order, unknown codes, and bodies real clients send.
fn order_and_form_errors(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let items = items();
    let p = employee_with_account();

    let (mdtrt_id, medfee) = outpatient_visit(&his, &p, &items, "E");
    let settled = settle_outpatient(&his, &p, &mdtrt_id, medfee);
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();

    // Fees after settlement, cancelling a settled registration, cancelling twice.
    let late = [Line::new("E9", &items.a, 1)];
    let details: Vec<Value> = late
        .iter()
        .map(|l| l.outpatient_detail(&mdtrt_id, &p.person_no, false))
        .collect();
    his.call("2204", json!({ "feedetail": details }))
        .refused("就诊状态为已结算,不能上传费用明细");
    his.call(
        "2202",
        json!({ "data": { "psn_no": p.person_no, "mdtrt_id": mdtrt_id, "ipt_otp_no": "OTP-E" } }),
    )
    .refused("就诊已结算,请先撤销结算");
    his.call("2208", cancel_input(&p, &mdtrt_id, &setl_id)).output();
    his.call("2208", cancel_input(&p, &mdtrt_id, &setl_id))
        .refused(&format!("结算{setl_id}已撤销"));
    // Settling with a total that is not the lines' is refused.
    his.call("2207", settle_input(&p, &mdtrt_id, medfee + Money::from_fen(1), true))
        .refused(&format!(
            "medfee_sumamt: 医疗费总额{}与已上传明细合计{medfee}不符",
            medfee + Money::from_fen(1)
        ));

    // An unknown transaction code.
    his.call("9999", json!({ "data": {} }))
        .refused("infno: 不支持的交易编号“9999”");

    // Bodies that are not envelopes.
    let malformed = his.post(b"{\"infno\":\"1101\",");
    assert!(
        malformed.refusal().starts_with("body: 报文不是合法的JSON"),
        "{}",
        malformed.text()
    );
    assert_eq!(malformed.json["inf_refmsgid"], "");
    his.post(b"").refused("body: 报文为空");
    his.post(b"[1,2]").refusal();

    // `input` as a JSON string holding the object: answered as the object is.
    let as_object = person_info(&his, &p);
    let mut envelope = his.envelope(
        "1101",
        &his.msgid(),
        json!({ "data": { "psn_cert_type": "01", "certno": p.certno } }),
    );
    envelope["input"] = Value::String(envelope["input"].to_string());
    let as_string = his.post(&serde_json::to_vec(&envelope).expect("serialize"));
    assert_eq!(as_string.output(), &as_object);

    // The transaction code in the URL instead of the body.
    let mut envelope = his.envelope("1101", &his.msgid(), json!({ "data": { "certno": p.certno } }));
    envelope.as_object_mut().expect("object").remove("infno");
    let by_path = his.post_to(
        &format!("{NATIONAL_PATH}/1101"),
        &serde_json::to_vec(&envelope).expect("serialize"),
        "",
    );
    assert_eq!(by_path.output(), &as_object);

    // Numbers as strings: a whole visit with every amount, price and count sent as text.
    let mdtrt_id = register(&his, &p, "OTP-STR");
    let lines = outpatient_lines(&items, "T");
    let split = upload_outpatient_fees(&his, &p, &mdtrt_id, &lines, true);
    let medfee = total(&lines);
    let mut input = settle_input(&p, &mdtrt_id, medfee, true);
    input["data"]["medfee_sumamt"] = Value::String(medfee.to_string());
    let settled = his.call("2207", input);
    let a = amounts(&settled.output()["setlinfo"]);
    assert_eq!(a["medfee_sumamt"], medfee);
    assert_eq!(a["inscp_scp_amt"], split.policy_scope);

    // A body over the limit is refused in spec form, without reading it.
    let before = person_info(&his, &p);
    let envelope = his.envelope(
        "1101",
        &his.msgid(),
        json!({ "data": { "certno": p.certno, "psn_name": "x".repeat(ENVELOPE_BYTES_MAX) } }),
    );
    let big = serde_json::to_vec(&envelope).expect("serialize");
    assert!(big.len() > ENVELOPE_BYTES_MAX);
    his.post(&big)
        .refused(&format!("body: 报文长度超过上限{ENVELOPE_BYTES_MAX}字节"));
    // The server is still there.
    assert_eq!(person_info(&his, &p), before);
}

/// x-tif authentication, and institutions kept apart.
fn authentication(db: &str) {
    let items = items();
    let p = employee_with_account();
    let (visit, medfee);
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        let other = His::new(&server, 1);
        let lookup = json!({ "data": { "psn_cert_type": "01", "certno": p.certno } });

        his.signing(Signing::Unsigned)
            .call("1101", lookup.clone())
            .refused("缺少服务网关的请求头x-tif-paasid");
        his.signing(Signing::As {
            paas_id: his.institution.paas_id.clone(),
            secret: "not-the-secret".into(),
        })
        .call("1101", lookup.clone())
        .refused(yibao_server::AUTH_REFUSED);
        his.signing(Signing::As {
            paas_id: "nobody".into(),
            secret: "x".into(),
        })
        .call("1101", lookup.clone())
        .refused(yibao_server::AUTH_REFUSED);
        // A good signature, but by another institution than the envelope names.
        his.signing(Signing::As {
            paas_id: other.institution.paas_id.clone(),
            secret: other.institution.secret.clone(),
        })
        .call("1101", lookup.clone())
        .refused(&format!(
            "fixmedins_code: 报文中的机构编号{}与签名机构{}不符",
            his.code(),
            other.code()
        ));
        // Properly signed, it works.
        check_person_info(&his.call("1101", lookup).output().clone(), &p, p.account_balance);

        // One institution cannot see another's visit.
        let (mdtrt_id, total) = outpatient_visit(&his, &p, &items, "A");
        other
            .call("2207", settle_input(&p, &mdtrt_id, total, true))
            .refused(&format!("mdtrt_id: 就诊ID{mdtrt_id}不存在"));
        let details: Vec<Value> = [Line::new("X1", &items.a, 1)]
            .iter()
            .map(|l| l.outpatient_detail(&mdtrt_id, &p.person_no, false))
            .collect();
        other
            .call("2204", json!({ "feedetail": details }))
            .refused(&format!("mdtrt_id: 就诊ID{mdtrt_id}不存在"));
        other
            .call(
                "5204",
                json!({ "data": { "psn_no": p.person_no, "mdtrt_id": mdtrt_id } }),
            )
            .refused(&format!("mdtrt_id: 就诊ID{mdtrt_id}不存在"));
        assert_eq!(balance(&his, &p), p.account_balance, "nothing was settled");
        visit = mdtrt_id;
        medfee = total;
    }

    // The same database, served without authentication: unsigned requests work, and what was
    // stored before the restart is there.
    let server = Server::start(db, Auth::Off);
    let his = His::new(&server, 0).signing(Signing::Unsigned);
    check_person_info(&person_info(&his, &p), &p, p.account_balance);
    let settled = settle_outpatient(&his, &p, &visit, medfee);
    assert_eq!(settled.output()["setlinfo"]["medfee_sumamt"], amount_json(medfee));
}

/// The spec's own 1101 example (§3.3), adapted to a demo person and institution, and the Putian
/// production request Fujian sends as 3103 (a patient, not the national feedback form: it is
/// refused naming the first field the national 3103 needs).
fn spec_samples(db: &str) {
    let p = employee_with_account();
    const SPEC_1101: &str = r#"{"infno":"1101","msgid":"H00000000001202001041235391234","insuplc_admdvs":"100000",
 "mdtrtarea_admvs":"100000","recer_sys_code":"MBS_LOCAL","dev_no":"","dev_safe_info":"","cainfo":"",
 "infver":"V1.0","opter_type":"1","opter":"01","opter_name":"张三","inf_time":"2020-01-04 12:35:39",
 "fixmedins_code":"100001","fixmedins_name":"第一人民医院","sign_no":"79faf82271944fe38c4f1d99be71bc9c",
 "input":{"data":{"psn_cert_type":"2","certno":"510000202001010000","psn_name":"李四","begntime":"2020-01-01"}}}"#;
    const PUTIAN_3103: &str = r#"{"insuplc_admdvs":"350303","dev_no":"","inf_time":"2026-06-12 09:22:37",
 "msgid":"H35030200090202606120922374767","infver":"V1.0","signtype":"","opter":"18454",
 "input":{"data":{"adm_time":"20260612084935","fixmedins_code":"H35030200090","gend":"2",
   "mdtrt_cert_type":"03","patn_name":"…","mdtrt_cert_no":"","fixmedins_name":"莆田市第一医院",
   "dept_name":"神经内科","dr_name":"…","brdy":"1949-09-29"}},
 "fixmedins_code":"H35030200090","cainfo":"","opter_name":"…","dev_safe_info":"","infno":"3103",
 "mdtrtarea_admvs":"350302","opter_type":"1","fixmedins_name":"莆田市第一医院","sign_no":"25483790",
 "recer_sys_code":"MBS_LOCAL"}"#;
    let adapt = |sample: &str, his: &His| -> Vec<u8> {
        sample
            .replace("100001", his.code())
            .replace("H35030200090", his.code())
            .replace("第一人民医院", &his.institution.name)
            .replace("莆田市第一医院", &his.institution.name)
            .replace("510000202001010000", &p.certno)
            .replace("李四", &p.name)
            .into_bytes()
    };
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        let answer = his.post(&adapt(SPEC_1101, &his));
        check_person_info(answer.output(), &p, p.account_balance);
        assert!(answer.output()["insuinfo"].is_array() && answer.output()["idetinfo"].is_array());
        his.post(&adapt(PUTIAN_3103, &his))
            .refused("input.data.warn_type: 必填字段缺失");
    }
    // Verbatim, the Putian request names an institution the demo region does not have: without
    // authentication it gets as far as its input.
    let server = Server::start(db, Auth::Off);
    let his = His::new(&server, 0).signing(Signing::Unsigned);
    let answer = his.post(PUTIAN_3103.as_bytes());
    answer.refused("input.data.warn_type: 必填字段缺失");
    assert_eq!(answer.json["inf_refmsgid"], "");
}

// =============================================================================================
// Files: 9101 upload, 3202 detail reconciliation, 1301 catalog download, 9102 download.

/// 9101 with the file as Base64 in the JSON envelope: the `file_qury_no`.
fn upload_json(his: &His, filename: &str, bytes: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let answer = his.call(
        "9101",
        json!({ "fsUploadIn": { "in": encoded, "filename": filename, "fixmedins_code": his.code() } }),
    );
    let out = answer.output();
    assert_eq!(out["filename"], filename);
    assert_eq!(out["fixmedins_code"], his.code());
    assert!(str_of(out, "dld_endtime") > now_text().as_str(), "{out}");
    str_of(out, "file_qury_no").to_owned()
}

/// 9101 as a multipart form (parts `jsonStr` and `file`), as the official demo sends it.
fn upload_form(his: &His, part_filename: &str, bytes: &[u8]) -> Reply {
    let msgid = his.msgid();
    let envelope = his.envelope(
        "9101",
        &msgid,
        json!({ "fsUploadIn": { "fixmedins_code": his.code() } }),
    );
    let boundary = "----yibao-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"jsonStr\"\r\n\r\n{envelope}\r\n").as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{part_filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut headers = his.auth_headers();
    headers.push((
        "content-type".into(),
        format!("multipart/form-data; boundary={boundary}"),
    ));
    let reply = http(&his.addr, "POST", NATIONAL_PATH, &headers, &body);
    let json: Value = serde_json::from_slice(&reply.body).expect("9101 answers JSON");
    check_answer_form(&json);
    Reply {
        raw: reply.body,
        json,
        msgid,
    }
}

/// 9102: the file's bytes (checked to be sent as a file), or the refusal's JSON answer.
fn download(his: &His, file_qury_no: &str) -> Result<Vec<u8>, Value> {
    let msgid = his.msgid();
    let envelope = his.envelope(
        "9102",
        &msgid,
        json!({ "fsDownloadIn": { "file_qury_no": file_qury_no, "fixmedins_code": his.code() } }),
    );
    let body = serde_json::to_vec(&envelope).unwrap();
    let reply = http(&his.addr, "POST", NATIONAL_PATH, &his.auth_headers(), &body);
    assert_eq!(reply.status, 200);
    if reply.header("content-type") == Some("application/octet-stream") {
        let disposition = reply.header("content-disposition").expect("content-disposition");
        assert!(disposition.starts_with("attachment; filename="), "{disposition}");
        Ok(reply.body)
    } else {
        let json: Value = serde_json::from_slice(&reply.body).expect("a refusal is JSON");
        check_answer_form(&json);
        Err(json)
    }
}

/// 3202 over yesterday to tomorrow with the institution's totals: the answer's output.
fn reconcile_detail(his: &His, file_qury_no: &str, count: i64, totals: Totals, cash: Money) -> Value {
    let day = chrono::Duration::days(1);
    his.call(
        "3202",
        json!({ "data": {
            "setl_optins": DEMO_ADMDVS, "file_qury_no": file_qury_no, "clr_type": "11",
            "stmt_begndate": (today() - day).to_string(), "stmt_enddate": (today() + day).to_string(),
            "medfee_sumamt": amount_json(totals.medfee), "fund_pay_sumamt": amount_json(totals.fund),
            "cash_payamt": amount_json(cash), "fixmedins_setl_cnt": count,
        } }),
    )
    .output()
    .clone()
}

fn detail_line(setl_id: &str, mdtrt_id: &str, p: &DemoPerson, t: Totals, refund: bool) -> String {
    let sign = |m: Money| if refund { Money::ZERO - m } else { m };
    format!(
        "{setl_id}\t{mdtrt_id}\t{}\t{}\t{}\t{}\t{}\n",
        p.person_no,
        sign(t.medfee),
        sign(t.fund),
        sign(t.account),
        if refund { 1 } else { 0 }
    )
}

/// The whole file cycle an institution goes through: its 表200 up by 9101 (JSON and multipart),
/// 3202 against the centre's settlements with the 表201 answer fetched by 9102, and a catalog
/// download. Files are the institution's own: another cannot fetch them.
fn file_exchange(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let other = His::new(&server, 1);
    let items = items();
    let p = employee_with_account();
    let q = resident_adult();

    // Two settlements today; the second is cancelled (2208).
    let (m1, total1) = outpatient_visit(&his, &p, &items, "F1-");
    let s1 = settle_outpatient(&his, &p, &m1, total1);
    let (m2, total2) = outpatient_visit(&his, &q, &items, "F2-");
    let s2 = settle_outpatient(&his, &q, &m2, total2);
    let (id1, id2) = (
        str_of(&s1.output()["setlinfo"], "setl_id").to_owned(),
        str_of(&s2.output()["setlinfo"], "setl_id").to_owned(),
    );
    his.call("2208", cancel_input(&q, &m2, &id2)).output();
    let (t1, t2) = (
        Totals::of(&s1.output()["setlinfo"]),
        Totals::of(&s2.output()["setlinfo"]),
    );
    let cash1 = money(&s1.output()["setlinfo"]["psn_cash_pay"], "psn_cash_pay");

    // The institution's own file agrees: every row balanced, and the totals too.
    let good = format!(
        "setl_id\tmdtrt_id\tpsn_no\tmedfee_sumamt\tfund_pay_sumamt\tacct_pay\trefd_setl_flag\n{}{}{}",
        detail_line(&id1, &m1, &p, t1, false),
        detail_line(&id2, &m2, &q, t2, false),
        detail_line(&id2, &m2, &q, t2, true),
    );
    let zipped = yibao_fsi::files::zip_text("200.txt", &good).unwrap();
    let file_no = upload_json(&his, "H_200.zip", &zipped);
    assert_eq!(
        download(&his, &file_no).unwrap(),
        zipped,
        "9102 returns the upload as sent"
    );
    let out = reconcile_detail(&his, &file_no, 1, t1, cash1);
    assert_eq!(out["stmtinfo"]["stmt_rslt"], "0", "{out}");
    let result = download(&his, str_of(&out["fileinfo"], "file_qury_no")).unwrap();
    let rows = yibao_fsi::files::file_text(&result).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 3, "{rows}");
    assert!(
        lines[0].starts_with(&format!("{}\t{m1}\t{id1}\t{}\t0\t0\tnull\t", p.person_no, s1.msgid)),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].contains(&format!("\t0\t1\tnull\t-{}\t", t2.medfee)),
        "the refund row: {}",
        lines[2]
    );

    // A file that disagrees: one amount off, the refund row missing, a settlement the centre
    // never made. Each row says which.
    let mut off = t1;
    off.medfee += Money::from_yuan(1);
    let bad = format!(
        "{}{}{}",
        detail_line(&id1, &m1, &p, off, false),
        detail_line(&id2, &m2, &q, t2, false),
        detail_line("NOSUCHSETTLEMENT", &m1, &p, t1, false),
    );
    let bad_no = upload_json(&his, "H_200_bad.txt", bad.as_bytes());
    let out = reconcile_detail(&his, &bad_no, 1, t1, cash1);
    assert_eq!(out["stmtinfo"]["stmt_rslt"], "1", "{out}");
    assert_eq!(
        str_of(&out["stmtinfo"], "stmt_rslt_dscr").split(';').next().unwrap(),
        "明细4行: 平1 中心多1 医药机构多1 不一致1"
    );
    let result = download(&his, str_of(&out["fileinfo"], "file_qury_no")).unwrap();
    let text = yibao_fsi::files::file_text(&result).unwrap();
    let by_result: Vec<(String, String)> = text
        .lines()
        .map(|l| {
            let cells: Vec<&str> = l.split('\t').collect();
            (cells[4].to_owned(), cells[6].to_owned())
        })
        .collect();
    let expected = [
        ("3", format!("医疗费总额中心{}机构{}", t1.medfee, off.medfee)),
        ("0", "null".to_owned()),
        ("1", "医药机构无此结算".to_owned()),
        ("2", "中心无此结算".to_owned()),
    ];
    assert_eq!(
        by_result,
        expected.map(|(code, memo)| (code.to_owned(), memo)).to_vec(),
        "{text}"
    );

    // The multipart form keeps the same file; its name comes from the part.
    // A client that sends its local path keeps only the name.
    let form = upload_form(&his, "/home/his/out/表200.zip", &zipped);
    let form_no = str_of(form.output(), "file_qury_no").to_owned();
    assert_eq!(form.output()["filename"], "表200.zip");
    assert_eq!(download(&his, &form_no).unwrap(), zipped);

    // Another institution cannot learn of, fetch, or reconcile against these files.
    let refusal = download(&other, &file_no).unwrap_err();
    assert_eq!(
        refusal["err_msg"],
        format!("input.fsDownloadIn.file_qury_no: 文件查询号{file_no}不存在")
    );
    let day = chrono::Duration::days(1);
    other
        .call(
            "3202",
            json!({ "data": {
                "setl_optins": DEMO_ADMDVS, "file_qury_no": file_no,
                "stmt_begndate": (today() - day).to_string(), "stmt_enddate": (today() + day).to_string(),
                "medfee_sumamt": "0", "fund_pay_sumamt": "0", "cash_payamt": "0", "fixmedins_setl_cnt": 0,
            } }),
        )
        .refused(&format!("input.data.file_qury_no: 文件查询号{file_no}不存在"));
    // A malformed 表200 is refused naming the line and column.
    let broken = upload_json(&his, "broken.txt", b"S1\tM1\tP1\tabc\t0\t0\t0\n");
    his.call(
        "3202",
        json!({ "data": {
            "setl_optins": DEMO_ADMDVS, "file_qury_no": broken,
            "stmt_begndate": today().to_string(), "stmt_enddate": today().to_string(),
            "medfee_sumamt": "0", "fund_pay_sumamt": "0", "cash_payamt": "0", "fixmedins_setl_cnt": 0,
        } }),
    )
    .refused("input.data.file_qury_no(第1行medfee_sumamt): 应为金额(元,至多2位小数)");

    // 1301 answers with a file of the region's drugs; 1307 is not a catalog the region holds.
    let catalog = his.call("1301", json!({ "data": { "ver": "0" } }));
    let count = catalog.output()["recordCounts"].as_u64().expect("recordCounts");
    assert!(count > 100, "{count} drugs");
    let file = download(&his, str_of(catalog.output(), "file_qury_no")).unwrap();
    let text = yibao_fsi::files::file_text(&file).unwrap();
    assert_eq!(text.lines().count() as u64, count);
    assert!(
        text.lines().all(|l| l.starts_with('X') || l.starts_with('Z')),
        "drug codes only"
    );
    assert_eq!(
        text.lines().next().unwrap().split('\t').count(),
        6,
        "hilist_code, hilist_name, chrgitm_lv, selfpay_prop, pric_uplmt_amt, lmt_used_flag"
    );
    his.call("1307", json!({ "data": { "ver": "0" } })).refused(
        "infno: 本统筹区医保目录不含1307目录(提供1301西药中成药、1302中药饮片、1305/1321医疗服务项目、1306医用耗材)",
    );
}

macro_rules! on_both_backends {
    ($($(#[$attr:meta])* $scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                $(#[$attr])*
                fn $scenario() {
                    let db = super::TestDb::sqlite("yibao_national_flow");
                    super::$scenario(db.url());
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                $(#[$attr])*
                fn $scenario() {
                    let db = super::TestDb::postgres("national_flow");
                    super::$scenario(db.url());
                }
            )*
        }
    };
}

/// A chronic-disease visit (门诊慢特病, med_type 14) of a person with a filed disease: its lines
/// carry the disease, it settles against that disease's own limit, and 5205 lists its lines.
fn chronic_visit(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let items = items();
    let p = find_person("an employee with a filed chronic disease", |p: &DemoPerson| {
        p.insurance == InsuranceType::EmployeeBasic && !p.chronic_diseases.is_empty()
    });
    let disease = p.chronic_diseases[0].0;
    let mdtrt_id = register(&his, &p, "CHRONIC-1");
    his.call(
        "2203",
        json!({
            "mdtrtinfo": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "med_type": "14", "begntime": now_text(),
                           "dise_codg": disease, "dise_name": "慢特病" },
            "diseinfo": [diagnosis()],
        }),
    )
    .done();
    let lines = vec![Line::new("C1", &items.a, 2), Line::new("C2", &items.big_a, 1)];
    let details: Vec<Value> = lines
        .iter()
        .map(|l| {
            let mut d = l.outpatient_detail(&mdtrt_id, &p.person_no, false);
            d["dise_codg"] = json!(disease);
            d
        })
        .collect();
    his.call("2204", json!({ "feedetail": details })).output();
    let mut input = settle_input(&p, &mdtrt_id, total(&lines), false);
    input["data"]["med_type"] = json!("14");
    let settled = his.call("2207", input);
    let setlinfo = &settled.output()["setlinfo"];
    assert_eq!(setlinfo["med_type"], "14");
    let detail = &settled.output()["setldetail"];
    let stages = detail[0]["setl_proc_info"].as_str().unwrap();
    assert!(
        stages.contains(&format!("chronic@{disease}")),
        "settled per disease: {stages}"
    );
    assert!(money(&setlinfo["hifp_pay"], "hifp_pay") > Money::ZERO, "{setlinfo}");

    let rows = his.call("5205", json!({ "data": { "psn_no": p.person_no } })).output()["feedetail"].clone();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), lines.len(), "{rows:?}");
    for row in rows {
        assert_eq!(row["mdtrt_id"], mdtrt_id);
        assert_eq!(row["dise_codg"], disease);
        assert_eq!(row["setl_id"], setlinfo["setl_id"]);
    }
}

/// Runs `yibao ARGS…` to completion, returning (success, stdout, stderr).
fn yibao(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_yibao"))
        .args(args)
        .output()
        .expect("run yibao");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn shared_data(path: &str) -> String {
    format!("{}/../../data/{path}", env!("CARGO_MANIFEST_DIR"))
}

fn settlement_list_input(p: &DemoPerson, mdtrt_id: &str, setl_id: &str) -> Value {
    json!({
        "setlinfo": { "mdtrt_id": mdtrt_id, "setl_id": setl_id, "psn_no": p.person_no, "dscg_way": "1",
                      "act_ipt_days": "3", "vent_used_dura": "0天0小时0分钟" },
        "diseinfo": [
            { "diag_type": "1", "diag_code": "I10.x00", "diag_name": "高血压", "maindiag_flag": "0" },
            { "diag_type": "1", "diag_code": "J18.900", "diag_name": "肺炎", "maindiag_flag": "1" }
        ],
        "oprninfo": [],
    })
}

/// 4101: before a scheme is imported the service says what to do; after `yibao drg import` a
/// settled inpatient's list is grouped (and explained), bad lists are refused, and `yibao drg
/// settle-year` settles the year from the stored lists.
fn settlement_list_flow(db: &str) {
    let p = resident_adult();
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        his.call("4101", settlement_list_input(&p, "M1", "S1"))
            .refused("尚未导入DRG分组方案, 经办机构须先执行 yibao drg import");
    }
    let (ok, stdout, stderr) = yibao(&[
        "drg",
        "import",
        "--database",
        db,
        "--rules",
        &shared_data("chs-drg-1.1"),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("已导入DRG分组方案CHS-DRG-1.1: "), "{stdout}");

    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0); // 三级
    let items = items();
    let out = his.call("2401", admission_input(&p, "IPT-DRG")).output().clone();
    let mdtrt_id = str_of(&out["result"], "mdtrt_id").to_owned();
    let lines = [Line::new("D1", &items.a, 2), Line::new("D2", &items.b, 1)];
    upload_inpatient_fees(&his, &p, &mdtrt_id, &lines).output();
    let medfee = total(&lines);
    his.call(
        "2402",
        json!({
            "dscginfo": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "insutype": p.insurance.code(),
                          "endtime": now_text(), "dscg_dept_codg": "A03", "dscg_dept_name": "呼吸内科", "dscg_way": "1" },
            "diseinfo": [{
                "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1,
                "diag_code": "J18.900", "diag_name": "肺炎", "diag_dept": "呼吸内科", "dise_dor_no": "D500101000001",
                "dise_dor_name": "李医生", "diag_time": now_text(),
            }],
        }),
    )
    .done();
    let settled = his.call("2304", inpatient_settle_input(&p, &mdtrt_id, medfee));
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    let fund = money(&settled.output()["setlinfo"]["fund_pay_sumamt"], "fund_pay_sumamt");

    // Grouped as `yibao drg group` groups the same case (tests/drg_group.rs): ES35.
    let grouped = his.call("4101", settlement_list_input(&p, &mdtrt_id, &setl_id));
    let data = &grouped.output()["data"];
    assert_eq!(
        (
            str_of(data, "setl_list_id"),
            str_of(data, "mdc"),
            str_of(data, "adrg"),
            str_of(data, "drg")
        ),
        (setl_id.as_str(), "MDCE", "ES3", "ES35")
    );
    assert_eq!(str_of(data, "drg_version"), "CHS-DRG-1.1");
    assert_eq!(str_of(data, "reason"), "分组成功");
    let steps: Vec<&str> = data["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(steps.first().is_some_and(|s| s.contains("J18.900")), "{steps:?}");
    assert!(steps.last().is_some_and(|s| s.contains("ES35")), "{steps:?}");
    // The same msgid replays; a re-upload (new msgid) replaces the list.
    let replay = his.call_with_msgid("4101", &grouped.msgid, settlement_list_input(&p, &mdtrt_id, &setl_id));
    assert_eq!(replay.json, grouped.json);
    his.call("4101", settlement_list_input(&p, &mdtrt_id, &setl_id))
        .output();

    // Refusals name the field.
    his.call("4101", settlement_list_input(&p, &mdtrt_id, "NOPE"))
        .refused("input.setlinfo.setl_id: 结算IDNOPE不存在");
    his.call("4101", settlement_list_input(&p, "OTHER", &setl_id))
        .refused(&format!(
            "input.setlinfo.mdtrt_id: 就诊IDOTHER与结算{setl_id}的就诊不符"
        ));
    let mut no_main = settlement_list_input(&p, &mdtrt_id, &setl_id);
    no_main["diseinfo"][1]["maindiag_flag"] = json!("0");
    his.call("4101", no_main)
        .refused("input.diseinfo: 缺少主要诊断(maindiag_flag=1)");
    // Another institution cannot see the settlement.
    His::new(&server, 1)
        .call("4101", settlement_list_input(&p, &mdtrt_id, &setl_id))
        .refused(&format!("input.setlinfo.setl_id: 结算ID{setl_id}不存在"));
    // An outpatient settlement has no settlement list.
    let q = employee_with_account();
    let (outpatient_visit_id, outpatient_total) = outpatient_visit(&his, &q, &items, "DRG-OP");
    let op = settle_outpatient(&his, &q, &outpatient_visit_id, outpatient_total);
    let op_setl_id = str_of(&op.output()["setlinfo"], "setl_id").to_owned();
    his.call("4101", settlement_list_input(&q, &outpatient_visit_id, &op_setl_id))
        .refused(&format!(
            "input.setlinfo.setl_id: 结算{op_setl_id}不是住院结算, 结算清单只用于住院"
        ));
    drop(server);

    // The annual settlement reads the list back. 北京2022 ES35 支付标准 7317; the stay costs far
    // less than 0.4 × 7317 = 2926.80, a 低倍率 case paid its cost, so nothing is owed either way.
    assert!(
        medfee < Money::from_fen(292_680),
        "the demo stay is a 低倍率 case: {medfee}"
    );
    let dir = std::env::temp_dir().join(unique("yibao-settle-year-db"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("statements.csv");
    let year = today().format("%Y").to_string();
    let policy = format!(
        "{}/../../policies/chongqing/payment/2024.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let table = shared_data("drg-payment-tables/北京2022.csv");
    let (ok, stdout, stderr) = yibao(&[
        "drg",
        "settle-year",
        "--policy",
        &policy,
        "--table",
        &table,
        "--database",
        db,
        "--year",
        &year,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("1 家机构、1 例病例已清算；清算差额合计 0.00"),
        "{stdout}"
    );
    let statement = std::fs::read_to_string(&out).unwrap();
    let row = statement.lines().nth(1).expect("one statement row");
    let expected = format!(
        "{},1,1,0,1,0,{medfee},{medfee},0.00,0.00,{medfee},{},0.00,{fund},{fund},0.00,",
        his.code(),
        medfee - fund
    );
    assert!(row.starts_with(&expected), "{row}\nexpected {expected}");
    let _ = std::fs::remove_dir_all(&dir);
}

// =============================================================================================
// Security: what a hostile institution tries, refused, and nothing changed.

const MSGID_REUSED: &str = "msgid: 报文ID已使用且报文内容不同,重发请使用原报文,新交易请使用新报文ID";

fn registration_input(p: &DemoPerson, cert_no: &str, begntime: &str) -> Value {
    json!({ "data": {
        "psn_no": p.person_no, "insutype": p.insurance.code(), "begntime": begntime,
        "mdtrt_cert_type": "02", "mdtrt_cert_no": cert_no, "ipt_otp_no": "OTP-SEC",
        "atddr_no": "D500101000001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
    } })
}

/// The visits 5201 lists for `p` at `his`.
fn visit_count(his: &His, p: &DemoPerson) -> usize {
    his.call("5201", json!({ "data": { "psn_no": p.person_no } })).output()["mdtrtinfo"]
        .as_array()
        .expect("mdtrtinfo is a list")
        .len()
}

/// Another employee with an account than `p`.
fn another_employee(p: &DemoPerson) -> DemoPerson {
    find_person("a second employee with an account", |q| {
        q.person_no != p.person_no
            && q.insurance == InsuranceType::EmployeeBasic
            && q.account_balance >= Money::from_yuan(1000)
    })
}

/// 1101 finds a person by certificate only, by the spec's types; every lookup is audited with
/// whom it looked up (masked).
fn person_lookup_by_certificate(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let p = employee_with_account();
    let voucher =
        |cert_type: &str, cert_no: &str| json!({ "data": { "mdtrt_cert_type": cert_type, "mdtrt_cert_no": cert_no } });

    // A person number is no certificate: sequential numbers cannot walk the insured population.
    let last = "500000P000000099999";
    his.call("1101", voucher("02", last)).refused(&format!(
        "input.data.mdtrt_cert_no: 身份证号码“{last}”格式不正确:应为18位"
    ));
    his.call("1101", voucher("02", &p.person_no)).refusal();
    his.call("1101", json!({ "data": { "certno": p.person_no } }))
        .refused(&format!(
            "input.data.certno: 身份证号码“{}”格式不正确:应为18位",
            p.person_no
        ));
    // The types as the spec defines them.
    his.call("1101", voucher("01", "E-VOUCHER-TOKEN"))
        .refused("input.data.mdtrt_cert_type: 医保电子凭证(01)尚未开通,请使用居民身份证(02)或社会保障卡(03)");
    his.call("1101", voucher("09", &p.certno)).refused(
        "input.data.mdtrt_cert_type: 就诊凭证类型“09”无效,应为01(医保电子凭证)、02(居民身份证)或03(社会保障卡)",
    );
    his.call("1101", voucher("03", &p.certno))
        .refused("input.data.card_sn: 社会保障卡(03)须提供卡识别码card_sn");
    // A valid citizen ID that nobody here holds.
    his.call("1101", voucher("02", "11010519491231002X"))
        .refused("input.data.mdtrt_cert_no: 未查询到参保人员信息");

    check_person_info(
        his.call("1101", voucher("02", &p.certno)).output(),
        &p,
        p.account_balance,
    );
    let mut card = voucher("03", &p.certno);
    card["data"]["card_sn"] = json!("K50010012345");
    check_person_info(his.call("1101", card).output(), &p, p.account_balance);
    // A lower-case check character is the same ID.
    let x = find_person("a person whose ID ends in X", |q| q.certno.ends_with('X'));
    let lower = x.certno.to_ascii_lowercase();
    let found = his.call("1101", voucher("02", &lower));
    assert_eq!(found.output()["baseinfo"]["psn_no"], json!(x.person_no));

    // The audit log says whom each lookup was for, the citizen ID masked.
    let masked = format!("{}********{}", &p.certno[..6], &p.certno[14..]);
    let audit = query_texts(db, "SELECT message FROM audit_log WHERE infno = '1101'");
    assert!(
        audit.contains(&format!("查询参保人 就诊凭证02:{masked},人员编号{}", p.person_no)),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|m| m.starts_with("input.data.mdtrt_cert_no: 身份证号码") && m.contains(last)),
        "a refused lookup is audited with what it asked for: {audit:?}"
    );
    assert!(
        audit.iter().all(|m| !m.contains(&p.certno)),
        "no whole citizen ID in the audit log"
    );
}

/// The certificate must be the person's: a registration or settlement for one person carrying
/// another's certificate (or nobody's) is refused, and nothing is registered or charged.
fn certificate_binding(db: &str) {
    let items = items();
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let p = employee_with_account();
    let q = another_employee(&p);

    his.call("2201", registration_input(&p, "999999999999999999", &now_text()))
        .refused("input.data.mdtrt_cert_no: 身份证号码“999999999999999999”格式不正确:校验位错误");
    his.call("2201", registration_input(&p, &q.certno, &now_text()))
        .refused(&format!(
            "input.data.mdtrt_cert_no: 就诊凭证与人员编号{}不是同一参保人",
            p.person_no
        ));
    assert_eq!(visit_count(&his, &p), 0, "nothing was registered");

    // A visit registered properly, then settled with someone else's ID card: refused.
    let (mdtrt_id, medfee) = outpatient_visit(&his, &p, &items, "B");
    let mut input = settle_input(&p, &mdtrt_id, medfee, true);
    input["data"]["mdtrt_cert_no"] = json!(q.certno);
    his.call("2207", input.clone()).refused(&format!(
        "input.data.mdtrt_cert_no: 就诊凭证与人员编号{}不是同一参保人",
        p.person_no
    ));
    input["data"]["mdtrt_cert_type"] = json!("01");
    his.call("2206", input).refusal();
    assert_eq!(balance(&his, &p), p.account_balance, "nothing was charged to p");
    assert_eq!(balance(&his, &q), q.account_balance, "nothing was charged to q");
    // With the person's own certificate it settles.
    settle_outpatient(&his, &p, &mdtrt_id, medfee).output();
}

/// A msgid names one request: reused for another transaction or another body it is refused;
/// sent again as it was it replays, before and after a restart.
fn msgid_names_one_request(db: &str) {
    let items = items();
    let p = employee_with_account();
    let (msgid_2201, msgid_2207, mdtrt_id, medfee, first, balance_after);
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        msgid_2201 = his.msgid();
        let registered = his.call_with_msgid("2201", &msgid_2201, registration_input(&p, &p.certno, &now_text()));
        mdtrt_id = str_of(&registered.output()["data"], "mdtrt_id").to_owned();
        upload_visit_info(&his, &p, &mdtrt_id);
        let lines = outpatient_lines(&items, "Q");
        upload_outpatient_fees(&his, &p, &mdtrt_id, &lines, false);
        medfee = total(&lines);
        // A 2207 reusing the 2201's msgid: refused, not answered with the registration.
        his.call_with_msgid("2207", &msgid_2201, settle_input(&p, &mdtrt_id, medfee, true))
            .refused(MSGID_REUSED);
        assert_eq!(balance(&his, &p), p.account_balance, "nothing was settled");

        msgid_2207 = his.msgid();
        first = his.call_with_msgid("2207", &msgid_2207, settle_input(&p, &mdtrt_id, medfee, true));
        first.output();
        balance_after = balance(&his, &p);
        // A 2204 reusing the 2207's msgid, and the 2207's msgid with another acct_used_flag.
        let more: Vec<Value> = [Line::new("Q9", &items.a, 1)]
            .iter()
            .map(|l| l.outpatient_detail(&mdtrt_id, &p.person_no, false))
            .collect();
        his.call_with_msgid("2204", &msgid_2207, json!({ "feedetail": more }))
            .refused(MSGID_REUSED);
        his.call_with_msgid("2207", &msgid_2207, settle_input(&p, &mdtrt_id, medfee, false))
            .refused(MSGID_REUSED);
        // The true retry replays byte for byte.
        let again = his.call_with_msgid("2207", &msgid_2207, settle_input(&p, &mdtrt_id, medfee, true));
        assert_eq!(again.raw, first.raw);
        assert_eq!(balance(&his, &p), balance_after, "debited once");
    }
    // After a restart, from the store: the same.
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    his.call_with_msgid("2207", &msgid_2207, settle_input(&p, &mdtrt_id, medfee, false))
        .refused(MSGID_REUSED);
    his.call_with_msgid("2201", &msgid_2207, registration_input(&p, &p.certno, &now_text()))
        .refused(MSGID_REUSED);
    let replayed = his.call_with_msgid("2207", &msgid_2207, settle_input(&p, &mdtrt_id, medfee, true));
    assert_eq!(replayed.raw, first.raw);
    assert_eq!(balance(&his, &p), balance_after);
    assert_eq!(visit_count(&his, &p), 1, "one visit only");
    let _ = msgid_2201;
}

/// x-tif headers are good for one request: the same four headers again (another body, another
/// person) are refused and change nothing; header refusals say what is wrong.
fn signature_replay(db: &str) {
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let p = employee_with_account();
    let q = another_employee(&p);
    let headers = his.auth_headers();
    let send = |headers: &[(String, String)], input: Value| -> Value {
        let body = serde_json::to_vec(&his.envelope("2201", &his.msgid(), input)).expect("serialize");
        let reply = http(&his.addr, "POST", NATIONAL_PATH, headers, &body);
        serde_json::from_slice(&reply.body).expect("JSON")
    };
    let first = send(&headers, registration_input(&p, &p.certno, &now_text()));
    assert_eq!(first["infcode"], 0, "{first}");
    let replayed = send(&headers, registration_input(&q, &q.certno, &now_text()));
    assert_eq!(replayed["infcode"], -1);
    assert_eq!(replayed["err_msg"], "签名已使用: x-tif-nonce重复,每个请求须用新的签名");
    assert_eq!(visit_count(&his, &q), 0, "the replayed headers registered nothing");

    // A nonce longer than any gateway sends is named as too long, not as missing.
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let nonce = "n".repeat(200);
    let long = vec![
        ("x-tif-paasid".to_owned(), his.institution.paas_id.clone()),
        ("x-tif-timestamp".to_owned(), timestamp.clone()),
        ("x-tif-nonce".to_owned(), nonce.clone()),
        (
            "x-tif-signature".to_owned(),
            yibao_server::sign(&timestamp, &his.institution.secret, &nonce),
        ),
    ];
    let refused = send(&long, registration_input(&q, &q.certno, &now_text()));
    assert_eq!(refused["err_msg"], "服务网关的请求头x-tif-nonce长度200超过上限128字节");
    // An unknown access id and a wrong secret are told alike; the audit log tells them apart.
    let unknown = his.signing(Signing::As {
        paas_id: "nobody".into(),
        secret: his.institution.secret.clone(),
    });
    let wrong = his.signing(Signing::As {
        paas_id: his.institution.paas_id.clone(),
        secret: "not-the-secret".into(),
    });
    let lookup = json!({ "data": { "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno } });
    unknown.call("1101", lookup.clone()).refused(yibao_server::AUTH_REFUSED);
    wrong.call("1101", lookup.clone()).refused(yibao_server::AUTH_REFUSED);
    // A refusal's audit line joins the next batch without holding its answer back: one answered
    // request later, it is durable (batches commit in order).
    his.call("1101", lookup).output();
    let audit = query_texts(db, "SELECT message FROM audit_log WHERE infcode = -1");
    assert!(audit.iter().any(|m| m == "x-tif-paasid未登记: nobody"), "{audit:?}");
    assert!(
        audit.contains(&format!("签名不一致: x-tif-paasid {}", his.institution.paas_id)),
        "{audit:?}"
    );
}

/// The weaker points: another institution's patient's year-to-date, a reversal for another
/// person, times in the future, impossible days, JSON nested too deep.
fn hostile_edges(db: &str) {
    let items = items();
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);
    let other = His::new(&server, 1);
    let p = employee_with_account();
    let q = another_employee(&p);
    let cumulative = json!({ "data": { "psn_no": p.person_no } });

    // 5206 answers only an institution that has seen the person.
    let unknown = format!("input.data.psn_no: 人员编号{}不存在", p.person_no);
    his.call("5206", cumulative.clone()).refused(&unknown);
    let (mdtrt_id, medfee) = outpatient_visit(&his, &p, &items, "H");
    his.call("5206", cumulative.clone()).output();
    other.call("5206", cumulative).refused(&unknown);

    // 2601 of a reversed settlement names its own person, or is refused.
    let msgid = his.msgid();
    let settled = his.call_with_msgid("2207", &msgid, settle_input(&p, &mdtrt_id, medfee, true));
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    his.call("2208", cancel_input(&p, &mdtrt_id, &setl_id)).output();
    his.call("2601", reversal_input(&p, &msgid, "2207")).done();
    his.call("2601", reversal_input(&q, &msgid, "2207")).refused(&format!(
        "input.data.psn_no: 人员编号{}与原交易的参保人不符",
        q.person_no
    ));

    // Times that have not come yet, and days that do not exist.
    let tomorrow = (Local::now() + chrono::Duration::days(1))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let refusal = his.call("2201", registration_input(&q, &q.certno, &tomorrow)).refusal();
    assert!(
        refusal.starts_with(&format!("begntime: 就诊时间{tomorrow}晚于当前时间")),
        "{refusal}"
    );
    his.call("2201", registration_input(&q, &q.certno, "2026-02-30 10:00:00"))
        .refused("input.data.begntime: 日期2026-02-30不存在");
    assert_eq!(visit_count(&his, &q), 0);
    let visit = register(&his, &q, "OTP-F");
    let mut line = Line::new("F1", &items.a, 1).outpatient_detail(&visit, &q.person_no, false);
    line["fee_ocur_time"] = json!(tomorrow);
    let refusal = his.call("2204", json!({ "feedetail": [line] })).refusal();
    assert!(
        refusal.starts_with(&format!(
            "feedetail[0].fee_ocur_time: 费用发生时间{tomorrow}晚于当前时间"
        )),
        "{refusal}"
    );

    // JSON nested past the limit is named as such.
    let deep = format!(
        r#"{{"infno":"1101","msgid":"{}","fixmedins_code":"{}","input":{}{}}}"#,
        his.msgid(),
        his.code(),
        "[".repeat(200),
        "]".repeat(200)
    );
    let refusal = his.post(deep.as_bytes()).refusal();
    assert!(refusal.starts_with("body: 报文JSON嵌套层数超过上限128层"), "{refusal}");
}

/// 参保中断或死亡后就医 over the store: a person enrolled through the admin API is treated and
/// settled, and a death registered afterwards with an earlier date makes the visit a suspicion
/// when the period is screened.
fn visit_after_registered_death(db: &str) {
    const TOKEN: &str = "death-test-admin-token-0123456789";
    let (ok, _, stderr) = yibao(&["monitor", "import", "--database", db, "--dir", &shared_data("liangku")]);
    assert!(ok, "{stderr}");
    let employer = {
        let base = "91500000MA5U00001";
        let check = yibao_enrol::CreditCode::check_char(base.as_bytes()).expect("charset");
        format!("{base}{}", check as char)
    };
    let certno = {
        let base = "11010119800115001";
        format!("{base}{}", yibao_codes::CitizenId::check_char(base.as_bytes()) as char)
    };
    let server = Server::start_with(db, DEMO_PERSONS, &[], Some(TOKEN));
    let admin = |method: &str, path: &str, body: Value| -> Value {
        let (status, answer) = bearer_call(&server, TOKEN, method, path, &body);
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer
    };
    admin(
        "POST",
        "/admin/api/employers",
        json!({ "credit_code": employer, "name": "重庆测试科技有限公司", "registered_on": "2020-03-01" }),
    );
    let enrolled = admin(
        "POST",
        &format!("/admin/api/persons/{certno}/commands"),
        json!({ "name": "赵六", "wage_monthly": "9000", "command": {
            "command": "enrol", "insurance": "310", "region": "500000", "employer": employer,
            "kind": "in_service", "tier": null, "county_class": null, "applied_on": days_ago(60).to_string(),
        } }),
    );
    let person_no = str_of(&enrolled, "person_no").to_owned();
    let his = His::new(&server, 0);
    let register = his
        .call(
            "2201",
            json!({ "data": {
                "psn_no": person_no, "insutype": "310", "begntime": now_text(),
                "mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "ipt_otp_no": "OTP-DEATH",
                "atddr_no": "D500101000001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
            } }),
        )
        .output()
        .clone();
    let mdtrt_id = str_of(&register["data"], "mdtrt_id").to_owned();
    let items = items();
    let lines = [Line::new("X1", &items.a, 1)];
    let details: Vec<Value> = lines
        .iter()
        .map(|l| l.outpatient_detail(&mdtrt_id, &person_no, false))
        .collect();
    his.call("2204", json!({ "feedetail": details })).output();
    his.call(
        "2207",
        json!({ "data": {
            "psn_no": person_no, "mdtrt_cert_type": "02", "mdtrt_cert_no": certno, "med_type": "11",
            "medfee_sumamt": amount_json(total(&lines)), "psn_setlway": "01", "mdtrt_id": mdtrt_id,
            "chrg_bchno": "B1", "acct_used_flag": "0", "insutype": "310",
        } }),
    )
    .output();
    // The death is registered afterwards, dated before the visit.
    admin(
        "POST",
        &format!("/admin/api/persons/{certno}/commands"),
        json!({ "command": { "command": "terminate", "relationship": 1, "on": days_ago(2).to_string(), "reason": "死亡" } }),
    );
    drop(server);
    let from = days_ago(10).to_string();
    let to = today().to_string();
    let (ok, stdout, stderr) = yibao(&[
        "monitor",
        "screen",
        "--demo",
        "--database",
        db,
        "--from",
        &from,
        "--to",
        &to,
    ]);
    assert!(ok, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("json");
    let rules: Vec<&str> = answer["by_rule"]
        .as_array()
        .expect("by_rule")
        .iter()
        .filter_map(|r| r["rule_id"].as_str())
        .collect();
    assert!(rules.contains(&"not_covered"), "{answer}");
    let text = query_texts(
        db,
        "SELECT detail_json FROM supervision_findings WHERE rule_id = 'not_covered'",
    );
    let detail: Value = serde_json::from_str(&text[0]).expect("json");
    assert!(detail["text"].as_str().is_some_and(|t| t.contains("死亡")), "{detail}");
}

fn days_ago(days: i64) -> NaiveDate {
    today() - chrono::Duration::days(days)
}

// =============================================================================================
// Supervision (智能监控) at settlement.

const SUPERVISION_ADMIN_TOKEN: &str = "supervision-admin-token-0123456789";

fn supervised_item(code: &str) -> DemoItem {
    yibao_demo::supervised_items()
        .into_iter()
        .find(|d| d.item.code.as_str() == code)
        .unwrap_or_else(|| panic!("demo catalog lacks {code}"))
}

/// An admin API call with a bearer token: the status and the JSON answer (`Null` sends no body).
fn bearer_call(server: &Server, token: &str, method: &str, path: &str, body: &Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let reply = http(
        &server.addr,
        method,
        path,
        &[
            ("Authorization".to_owned(), format!("Bearer {token}")),
            ("Content-Type".to_owned(), "application/json".to_owned()),
        ],
        &bytes,
    );
    (reply.status, serde_json::from_slice(&reply.body).unwrap_or(Value::Null))
}

fn admin_get(server: &Server, path: &str) -> Value {
    let (status, body) = bearer_call(server, SUPERVISION_ADMIN_TOKEN, "GET", path, &Value::Null);
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

/// 2206/2207 run the region's real-time rules once the 两库 is imported: a female-only drug
/// billed for a man is refused (moved to full self-pay, pre-settlement and settlement agree),
/// the settlement's lines and explanation name the rule, and the same drug for a woman is paid.
fn supervision_at_settlement(db: &str) {
    let drug = supervised_item("ZD03AAA0043010100166"); // 艾附暖宫丸, 限女性
    let items = items();
    let man = find_person("a male employee with an account", |p| {
        p.insurance == InsuranceType::EmployeeBasic
            && p.sex == yibao_codes::Sex::Male
            && p.chronic_diseases.is_empty()
            && p.account_balance >= Money::from_yuan(1000)
    });
    let woman = find_person("a female employee", |p| {
        p.insurance == InsuranceType::EmployeeBasic
            && p.sex == yibao_codes::Sex::Female
            && p.chronic_diseases.is_empty()
    });
    let visit = |his: &His, p: &DemoPerson, prefix: &str| -> (String, Vec<Line>) {
        let mdtrt_id = register(his, p, &format!("OTP-{prefix}"));
        upload_visit_info(his, p, &mdtrt_id);
        let lines = vec![
            Line::new(&format!("{prefix}1"), &drug, 2),
            Line::new(&format!("{prefix}2"), &items.a, 1),
        ];
        upload_outpatient_fees(his, p, &mdtrt_id, &lines, false);
        (mdtrt_id, lines)
    };

    // Before the 两库 is imported nothing is refused.
    {
        let server = Server::start_with(db, DEMO_PERSONS, &[], Some(SUPERVISION_ADMIN_TOKEN));
        let his = His::new(&server, 0);
        let (mdtrt_id, lines) = visit(&his, &man, "N");
        let pre = his.call("2206", settle_input(&man, &mdtrt_id, total(&lines), true));
        assert_eq!(amounts(&pre.output()["setlinfo"])["fulamt_ownpay_amt"], Money::ZERO);
    }
    let (ok, stdout, stderr) = yibao(&["monitor", "import", "--database", db, "--dir", &shared_data("liangku")]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("第1批编码合计 11290 条"), "{stdout}");

    let server = Server::start_with(db, DEMO_PERSONS, &[], Some(SUPERVISION_ADMIN_TOKEN));
    let his = His::new(&server, 0);
    let (mdtrt_id, lines) = visit(&his, &man, "M");
    let medfee = total(&lines);
    let refused = lines[0].amount;
    assert_eq!(refused, Money::parse_yuan("128.00").expect("money"));
    let pre = his.call("2206", settle_input(&man, &mdtrt_id, medfee, true));
    let pre_amounts = amounts(&pre.output()["setlinfo"]);
    assert_eq!(
        pre_amounts["fulamt_ownpay_amt"], refused,
        "the refused line is full self-pay"
    );
    let settled = settle_outpatient(&his, &man, &mdtrt_id, medfee);
    let setl_id = str_of(&settled.output()["setlinfo"], "setl_id").to_owned();
    assert_eq!(
        amounts(&settled.output()["setlinfo"]),
        pre_amounts,
        "pre-settlement and settlement agree"
    );

    let view = admin_get(&server, &format!("/admin/api/settlements/{setl_id}"));
    let line = &view["lines"][0];
    assert_eq!(line["refusal"]["rule_id"], "drug_sex", "{view}");
    assert_eq!(line["refusal"]["amount"], refused.to_string(), "{view}");
    assert_eq!(line["full_self_pay"], refused.to_string(), "{view}");
    assert_eq!(line["reason"], "智能监控拒付");
    assert_eq!(view["lines"][1]["refusal"], Value::Null);
    let explanation: Vec<&str> = view["explanation"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        explanation.contains(&"明细M1 限性别用药(drug_sex): 男性患者不予支付: 艾附暖宫丸限女性使用 -128.00(转全自费)"),
        "{explanation:?}"
    );

    // The same drug for a woman is paid as its class says.
    let (mdtrt_id, lines) = visit(&his, &woman, "W");
    let settled = his.call("2207", settle_input(&woman, &mdtrt_id, total(&lines), false));
    assert_eq!(amounts(&settled.output()["setlinfo"])["fulamt_ownpay_amt"], Money::ZERO);
    let (status, body) = bearer_call(
        &server,
        SUPERVISION_ADMIN_TOKEN,
        "GET",
        "/admin/api/settlements/NOSUCH",
        &Value::Null,
    );
    assert_eq!(status, 400);
    assert_eq!(body["field"], "setl_id", "{body}");
}

fn audit_order(rx_id: &str, demo: &DemoItem, cnt: i64, at: &str, current: bool) -> Value {
    json!({
        "rx_id": rx_id, "rxno": rx_id, "hilist_code": demo.item.code.as_str(), "hilist_name": demo.item.name,
        "cnt": cnt, "pric": price_json(demo.price), "drord_begn_date": at,
        "curr_drord_flag": if current { "1" } else { "0" },
    })
}

fn audit_input(p: &DemoPerson, trig_scen: &str, inpatient: bool, orders: Vec<Value>) -> Value {
    json!({ "data": {
        "syscode": "HIS", "task_id": "T1", "trig_scen": trig_scen,
        "patient_dtos": [{
            "patn_id": p.person_no, "patn_name": p.name, "gend": p.sex.code(),
            "brdy": p.birth_date.to_string(), "poolarea": DEMO_ADMDVS, "curr_mdtrt_id": "MDT1",
            "fsi_encounter_dtos": [{
                "mdtrt_id": "MDT1", "medins_id": demo_institutions()[0].code, "medins_lv": "3",
                "adm_date": now_text(), "med_mdtrt_type": if inpatient { "2" } else { "1" },
                "insutype": p.insurance.code(),
                "fsi_diagnose_dtos": [{ "dise_codg": "J06.900", "maindise_flag": "1" }],
                "fsi_order_dtos": orders,
            }],
        }],
    } })
}

/// 3101 (事前) and 3102 (事中) answer the region's rules' findings on the orders a HIS sends,
/// each with its jr_id; 3103 records the doctor's decision on a warning. Wrong fields are
/// refused naming them; a retry of a 3101 replays its jr_ids.
fn supervision_before_and_during(db: &str) {
    let man = find_person("a man", |p| {
        p.sex == yibao_codes::Sex::Male && p.chronic_diseases.is_empty()
    });
    let drug = supervised_item("ZD03AAA0043010100166");
    let monitoring = supervised_item("001103000010000");
    let consultation = supervised_item("001102000030000");
    {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        his.call(
            "3101",
            audit_input(&man, "2", false, vec![audit_order("R1", &drug, 1, &now_text(), true)]),
        )
        .refused("尚未导入两库知识库, 经办机构须先执行 yibao monitor import");
    }
    let (ok, _, stderr) = yibao(&["monitor", "import", "--database", db, "--dir", &shared_data("liangku")]);
    assert!(ok, "{stderr}");
    let server = Server::start(db, Auth::On);
    let his = His::new(&server, 0);

    // The field at fault is named.
    let mut no_scene = audit_input(&man, "2", false, vec![audit_order("R1", &drug, 1, &now_text(), true)]);
    no_scene["data"].as_object_mut().expect("data").remove("trig_scen");
    his.call("3101", no_scene).refused("input.data.trig_scen: 必填字段缺失");
    his.call(
        "3101",
        audit_input(&man, "6", false, vec![audit_order("R1", &drug, 1, &now_text(), true)]),
    )
    .refused("input.data.trig_scen: 3101为事前审核,触发场景应为1至5,而非6(门诊结算)");

    // 事前: a female-only drug ordered for a man. The history order (curr_drord_flag 0) is context
    // only: one finding, on the current order.
    let orders = vec![
        audit_order("R0", &drug, 1, &days_ago_text(3), false),
        audit_order("R1", &drug, 2, &now_text(), true),
    ];
    let msgid = his.msgid();
    // Built once: a retry sends the same body (its times included).
    let request = audit_input(&man, "2", false, orders);
    let first = his.call_with_msgid("3101", &msgid, request.clone());
    let result = first.output()["result"].as_array().expect("result").clone();
    assert_eq!(result.len(), 1, "{result:?}");
    let warning = &result[0];
    assert_eq!(warning["rule_id"], "drug_sex");
    assert_eq!(warning["rule_name"], "限性别用药");
    assert_eq!(warning["sev_deg"], "明确违规");
    assert_eq!(warning["vola_cont"], "男性患者不予支付: 艾附暖宫丸限女性使用");
    assert_eq!(
        money(&warning["vola_amt"], "vola_amt"),
        Money::parse_yuan("128.00").expect("m")
    );
    assert_eq!(warning["judge_result_detail_dtos"][0]["rx_id"], "R1");
    assert_eq!(warning["judge_result_detail_dtos"][0]["vola_item_type"], "1");
    assert_eq!(warning["patn_id"], man.person_no.as_str());
    let jr_id = str_of(warning, "jr_id").to_owned();
    let replay = his.call_with_msgid("3101", &msgid, request);
    assert_eq!(replay.output(), first.output(), "a retry answers the same jr_ids");

    // 3103: continuing needs a reason; the decision is kept against the warning.
    let feedback = |warn_type: i64, id: &str, way: &str, reason: Option<&str>| {
        json!({ "data": { "warn_type": warn_type, "warns": [
            { "warn_rslt_id": id, "dspo_way": way, "dspo_way_rea": reason.unwrap_or("") }
        ] } })
    };
    his.call("3103", feedback(1, &jr_id, "1", None))
        .refused("input.data.warns[0].dspo_way_rea: 选择继续执行医嘱时须填写处理原因");
    his.call("3103", feedback(1, "NOSUCHWARNING", "2", None))
        .refused("input.data.warns[0].warn_rslt_id: 预警结果标识NOSUCHWARNING不存在");
    his.call("3103", feedback(2, &jr_id, "2", None)).refused(&format!(
        "input.data.warns[0].warn_rslt_id: 预警{jr_id}由3101产生,与预警类型warn_type=2不符"
    ));
    // Another institution cannot feed back on this one's warning.
    His::new(&server, 1)
        .call("3103", feedback(1, &jr_id, "2", None))
        .refused(&format!("input.data.warns[0].warn_rslt_id: 预警结果标识{jr_id}不存在"));
    his.call("3103", feedback(1, &jr_id, "1", Some("患者为变性手术后女性, 已核实")))
        .done();
    let stored = query_texts(
        db,
        &format!(
            "SELECT feedback_way || '|' || feedback_reason FROM supervision_findings WHERE finding_id = '{jr_id}'"
        ),
    );
    assert_eq!(stored, ["1|患者为变性手术后女性, 已核实"]);

    // 事中: a slave item charged the same day as its master item (重复收费), inpatient.
    let day = now_text();
    let during = his.call(
        "3102",
        audit_input(
            &man,
            "9",
            true,
            vec![
                audit_order("C1", &monitoring, 1, &day, true),
                audit_order("C2", &consultation, 1, &day, true),
            ],
        ),
    );
    let result = during.output()["result"].as_array().expect("result").clone();
    assert_eq!(result.len(), 1, "{result:?}");
    assert_eq!(result[0]["rule_id"], "duplicate_charge");
    let details = result[0]["judge_result_detail_dtos"].as_array().expect("details");
    assert_eq!(
        details
            .iter()
            .map(|d| (
                d["rx_id"].as_str().unwrap_or(""),
                d["vola_item_type"].as_str().unwrap_or("")
            ))
            .collect::<Vec<_>>(),
        [("C2", "1"), ("C1", "2")]
    );
    let origins = query_texts(db, "SELECT origin FROM supervision_findings ORDER BY origin");
    assert_eq!(origins, ["3101", "3102"]);
}

/// One inpatient stay from `admitted_days_ago` to `discharged_days_ago`, its lines charged on
/// the days given, settled: the settlement id.
fn settled_stay(
    his: &His,
    p: &DemoPerson,
    ipt_no: &str,
    admitted_days_ago: i64,
    discharged_days_ago: i64,
    lines: &[(Line, i64)],
) -> String {
    let mut admission = admission_input(p, ipt_no);
    admission["mdtrtinfo"]["begntime"] = json!(days_ago_text(admitted_days_ago));
    admission["diseinfo"][0]["diag_time"] = json!(days_ago_text(admitted_days_ago));
    let out = his.call("2401", admission).output().clone();
    let mdtrt_id = str_of(&out["result"], "mdtrt_id").to_owned();
    let details: Vec<Value> = lines
        .iter()
        .map(|(line, days_ago)| {
            let mut d = line.inpatient_detail(&mdtrt_id, &p.person_no);
            d["fee_ocur_time"] = json!(days_ago_text(*days_ago));
            d
        })
        .collect();
    his.call("2301", json!({ "feedetail": details })).output();
    his.call(
        "2402",
        json!({
            "dscginfo": { "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "insutype": p.insurance.code(),
                          "endtime": days_ago_text(discharged_days_ago), "dscg_dept_codg": "A03", "dscg_dept_name": "呼吸内科", "dscg_way": "1" },
            "diseinfo": [{
                "mdtrt_id": mdtrt_id, "psn_no": p.person_no, "diag_type": "1", "maindiag_flag": "1", "diag_srt_no": 1,
                "diag_code": "J18.900", "diag_name": "肺炎", "diag_dept": "呼吸内科", "dise_dor_no": "D500101000001",
                "dise_dor_name": "李医生", "diag_time": days_ago_text(discharged_days_ago),
            }],
        }),
    )
    .done();
    let total: Money = lines.iter().map(|(l, _)| l.amount).sum();
    let settled = his.call("2304", inpatient_settle_input(p, &mdtrt_id, total));
    str_of(&settled.output()["setlinfo"], "setl_id").to_owned()
}

/// `yibao monitor screen` over stored settlements: a readmission five days after discharge to
/// the same hospital (分解住院) and a test repeated within its cycle (a warning rule the
/// settlement paid) are recorded as suspicions; screening the same period again records
/// nothing new.
fn screening_after_settlement(db: &str) {
    let (ok, _, stderr) = yibao(&["monitor", "import", "--database", db, "--dir", &shared_data("liangku")]);
    assert!(ok, "{stderr}");
    let p = resident_adult();
    let items = items();
    let test = supervised_item("002503020030000"); // 糖化血红蛋白测定, 每15天1次
    let (first, second) = {
        let server = Server::start(db, Auth::On);
        let his = His::new(&server, 0);
        let first = settled_stay(&his, &p, "IPT-S1", 14, 10, &[(Line::new("A1", &items.a, 1), 12)]);
        let second = settled_stay(
            &his,
            &p,
            "IPT-S2",
            5,
            1,
            &[
                (Line::new("B1", &items.a, 1), 4),
                (Line::new("B2", &test, 1), 4),
                (Line::new("B3", &test, 1), 2),
                (Line::new("B4", &items.big_a, 10), 3),
            ],
        );
        (first, second)
    };
    let from = (today() - chrono::Duration::days(30)).to_string();
    let to = today().to_string();
    let screen = || -> Value {
        let (ok, stdout, stderr) = yibao(&[
            "monitor",
            "screen",
            "--demo",
            "--database",
            db,
            "--from",
            &from,
            "--to",
            &to,
        ]);
        assert!(ok, "{stderr}");
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    let once = screen();
    let rules: Vec<&str> = once["by_rule"]
        .as_array()
        .expect("by_rule")
        .iter()
        .filter_map(|r| r["rule_id"].as_str())
        .collect();
    assert_eq!(rules, ["item_cycle", "split_admission"], "{once}");
    assert_eq!(once["new"], 2, "{once}");
    assert_eq!(once["settlements_screened"], 2, "{once}");
    let twice = screen();
    assert_eq!(
        (twice["new"].clone(), twice["already_recorded"].clone()),
        (json!(0), json!(2)),
        "{twice}"
    );
    let stored = query_texts(
        db,
        "SELECT rule_id || '|' || visit_id || '|' || amount FROM supervision_findings WHERE origin = 'screen' ORDER BY rule_id",
    );
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored[0].starts_with("item_cycle|") && stored[0].ends_with("|5000"),
        "{stored:?}"
    );
    assert!(stored[1].starts_with("split_admission|"), "{stored:?}");
    let detail = query_texts(
        db,
        "SELECT detail_json FROM supervision_findings WHERE rule_id = 'split_admission'",
    );
    let detail: Value = serde_json::from_str(&detail[0]).expect("json");
    assert_eq!(
        (detail["settlement_id"].as_str(), detail["other_settlement_id"].as_str()),
        (Some(second.as_str()), Some(first.as_str()))
    );
    assert!(
        detail["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("出院5天后再次入院同一机构")),
        "{detail}"
    );
    case_from_suspicion(db);
}

fn staff_tokens_file() -> (std::path::PathBuf, [(&'static str, String); 2]) {
    use sha2::Digest as _;
    let tokens = [
        ("auditor", "auditor-token-0123456789abcdef".to_owned()),
        ("clerk", "clerk-token-0123456789abcdef".to_owned()),
    ];
    let lines: Vec<String> = tokens
        .iter()
        .map(|(role, token)| {
            let hex: String = sha2::Sha256::digest(token.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("{role} 稽核员-{role} {hex}")
        })
        .collect();
    let path = std::env::temp_dir().join(format!("{}.staff", unique("yibao_staff")));
    std::fs::write(&path, lines.join("\n")).expect("write the staff tokens");
    (path, tokens)
}

/// A case from a screening suspicion: only an auditor opens and decides it; a confirmation
/// within Regulation 735's grid posts the recovery to the books of the funds that paid (the
/// entries balance and add up to the recovery), the doctor's points count toward suspension, a
/// decided case is not decided again, and reopening takes the recovery and the points back.
fn case_from_suspicion(db: &str) {
    let (file, tokens) = staff_tokens_file();
    let server = Server::start_with(
        db,
        DEMO_PERSONS,
        &["--staff-tokens-file".to_owned(), file.display().to_string()],
        None,
    );
    let call = |token: &str, method: &str, path: &str, body: Value| bearer_call(&server, token, method, path, &body);
    let (auditor, clerk) = (tokens[0].1.as_str(), tokens[1].1.as_str());
    let suspicion = query_texts(
        db,
        "SELECT finding_id FROM supervision_findings WHERE rule_id = 'split_admission'",
    );
    let at_stake = query_texts(
        db,
        "SELECT CAST(amount AS TEXT) FROM supervision_findings WHERE rule_id = 'split_admission'",
    );
    let recovery = Money::from_fen(at_stake[0].parse::<i64>().expect("fen"));
    assert!(recovery.fen() > 0, "the readmission was paid by the fund");
    let open = json!({ "suspicions": [suspicion[0]], "note": "15天内再入院, 调阅两次病历" });
    let (status, body) = call(clerk, "POST", "/admin/api/cases", open.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("经办无权立案(须稽核或管理员)")),
        "{body}"
    );
    // A staff token is for supervision's routes only.
    let (status, _) = call(auditor, "GET", "/admin/api/institutions", Value::Null);
    assert_eq!(status, 403);
    let (status, case) = call(auditor, "POST", "/admin/api/cases", open);
    assert_eq!((status, case["status"].as_str()), (200, Some("clue")), "{case}");
    let case_id = str_of(&case, "case_id").to_owned();
    let steps = format!("/admin/api/cases/{case_id}/steps");
    let confirm = json!({ "step": "confirm", "note": "认定分解住院", "decision": {
        "article": "38", "recovery": recovery.to_string(), "penalty_multiple": "1.5",
        "doctor": "D500101000001", "doctor_points": 9, "credit_points": 5, "suspension_months": 6,
    } });
    let (status, body) = call(auditor, "POST", &steps, confirm.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("案件状态为线索, 不能认定")),
        "{body}"
    );
    let (status, _) = call(auditor, "POST", &steps, json!({ "step": "review", "note": "调阅病历" }));
    assert_eq!(status, 200);
    let (status, body) = call(clerk, "POST", &steps, confirm.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("经办无权认定(须稽核或管理员)")),
        "{body}"
    );
    let mut too_high = confirm.clone();
    too_high["decision"]["penalty_multiple"] = json!("2.5");
    let (status, body) = call(auditor, "POST", &steps, too_high);
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("decision.penalty_multiple")),
        "{body}"
    );
    let (status, decided) = call(auditor, "POST", &steps, confirm.clone());
    assert_eq!(
        (status, decided["status"].as_str()),
        (200, Some("confirmed")),
        "{decided}"
    );
    let penalty = Money::from_fen((recovery.fen() * 3 + 1) / 2);
    assert_eq!(
        decided["penalty"],
        penalty.to_string(),
        "1.5 times the recovery, rounded half up"
    );
    let (status, body) = call(auditor, "POST", &steps, confirm.clone());
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("案件状态为已认定, 不能认定")),
        "{body}"
    );

    // 暂停医保服务: the institution registers no insured visit while suspended.
    let his = His::new(&server, 0);
    let p = resident_adult();
    let registration = json!({ "data": {
        "psn_no": p.person_no, "insutype": p.insurance.code(), "begntime": now_text(),
        "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "ipt_otp_no": "OTP-SUSPENDED",
        "atddr_no": "D500101000001", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
    } });
    let until = (Local::now().naive_local() + chrono::Months::new(6)).date();
    assert_eq!(
        str_of(&case, "institution"),
        his.code(),
        "the case is about the HIS's own institution"
    );
    his.call("2201", registration.clone()).refused(&format!(
        "定点医药机构{}因医保违规(案件{case_id})被暂停医保服务至{until}, 期间不能办理医保就诊和结算",
        his.code()
    ));

    // The books: the recovery credited back to benefit expense and debited to what is owed to
    // the institution, balanced in every book.
    let sums = |account: &str, column: &str| -> i64 {
        query_texts(
            db,
            &format!("SELECT CAST(COALESCE(SUM({column}), 0) AS TEXT) FROM ledger_entries WHERE settlement_id = '{case_id}' AND account = '{account}'"),
        )[0]
        .parse()
        .expect("sum")
    };
    assert_eq!(sums("payable_institution", "debit"), recovery.fen());
    assert_eq!(sums("medical_expense", "credit"), recovery.fen());
    assert_eq!(
        sums("payable_institution", "credit") + sums("medical_expense", "debit"),
        0
    );
    let year = today().year();
    let points_path = format!("/admin/api/doctors/D500101000001/points?year={year}");
    let (_, points) = call(auditor, "GET", &points_path, Value::Null);
    assert_eq!(
        (points["points"].clone(), points["standing"].clone()),
        (json!(9), json!("suspended")),
        "{points}"
    );
    let credit_path = format!(
        "/admin/api/institutions/{}/credit?year={year}",
        str_of(&case, "institution")
    );
    let (status, credit) = call(clerk, "GET", &credit_path, Value::Null);
    assert_eq!(status, 200, "{credit}");
    assert_eq!(
        (
            credit["deducted"].clone(),
            credit["score"].clone(),
            credit["grade"].clone()
        ),
        (json!(5), json!(95), json!("A")),
        "{credit}"
    );
    let (status, read) = call(clerk, "GET", &format!("/admin/api/cases/{case_id}"), Value::Null);
    assert_eq!(status, 200, "clerks read cases");
    let actors: Vec<&str> = read["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["actor"].as_str())
        .collect();
    assert_eq!(actors, ["稽核员-auditor"; 3]);

    // Reopening takes the recovery and the points back.
    let (status, reopened) = call(
        auditor,
        "POST",
        &steps,
        json!({ "step": "reopen", "reason": "机构申诉" }),
    );
    assert_eq!(
        (status, reopened["status"].as_str()),
        (200, Some("review")),
        "{reopened}"
    );
    assert_eq!(
        sums("payable_institution", "debit"),
        sums("payable_institution", "credit")
    );
    assert_eq!(sums("medical_expense", "debit"), sums("medical_expense", "credit"));
    let (_, points) = call(auditor, "GET", &points_path, Value::Null);
    assert_eq!(points["points"], 0, "{points}");
    let (_, credit) = call(auditor, "GET", &credit_path, Value::Null);
    assert_eq!(
        (credit["score"].clone(), credit["grade"].clone()),
        (json!(100), json!("A")),
        "{credit}"
    );
    // Reopened, the suspension is lifted.
    let out = his.call("2201", registration).output().clone();
    assert!(out["data"]["mdtrt_id"].is_string(), "{out}");
    let _ = std::fs::remove_file(file);
}

on_both_backends!(
    person_lookup_by_certificate,
    certificate_binding,
    msgid_names_one_request,
    signature_replay,
    hostile_edges,
    file_exchange,
    chronic_visit,
    settlement_list_flow,
    supervision_at_settlement,
    supervision_before_and_during,
    screening_after_settlement,
    visit_after_registered_death,
    outpatient_flow,
    settle_replay,
    inpatient_flow,
    reversal,
    order_and_form_errors,
    authentication,
    spec_samples,
    msgid_of_another_institution,
);
