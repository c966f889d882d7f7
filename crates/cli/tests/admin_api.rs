//! End-to-end tests of the JSON admin API (`/admin/api`): the real `yibao serve` binary, spoken
//! to over real HTTP, on SQLite and on PostgreSQL.
//!
//! Each scenario starts its own server (`yibao serve --demo --demo-persons 200`, the admin token
//! in `YIBAO_ADMIN_TOKEN`) against a fresh database: a temporary SQLite file, or a PostgreSQL
//! schema of its own (`?schema=`, dropped at the end). PostgreSQL: `YIBAO_TEST_POSTGRES_URL`, by
//! default `postgres://postgres@127.0.0.1:5432/test`; a server that cannot be reached fails the
//! PostgreSQL tests.
//!
//! Expected amounts come from the demo region's published 2026 contribution policy
//! (`policies/chongqing/contribution/2026.toml`), restated here, not from the server: employer
//! 9% and individual 2% of the base, the base clamped to 60%–300% of 8000, in-service account 2%
//! of the base, large-expense 5 a month; resident tier 1 400, subsidy 670 = 536 central + 67
//! city + 67 county for `district_county`, 60 of it to critical illness.

use std::sync::Arc;

use serde_json::{json, Value};
use yibao_codes::CitizenId;
use yibao_enrol::CreditCode;
use yibao_money::Money;

mod support;
use support::*;

/// Demo persons each server seeds (`--demo-persons`): the admin API needs none, and few start fast.
const DEMO_PERSONS: usize = 200;
const TOKEN: &str = "test-admin-token-0123456789abcdef";
/// The admin API's body limit, restated.
const ADMIN_BODY_BYTES_MAX: usize = 1024 * 1024;
const DISABLED_MESSAGE: &str = "管理接口未启用: 未配置管理口令(YIBAO_ADMIN_TOKEN 或 --admin-token-file)";

// =============================================================================================
// Harness: tests/support (databases, servers, HTTP).

/// How a server is started: its admin token (`YIBAO_ADMIN_TOKEN`, else none) and extra flags.
#[derive(Clone, Default)]
struct Options {
    admin_token: Option<String>,
    args: Vec<String>,
}

impl Server {
    fn start(database: &str, options: &Options) -> Server {
        Server::start_with(database, DEMO_PERSONS, &options.args, options.admin_token.as_deref())
    }
}

// =============================================================================================
// The admin client.

struct Admin<'a> {
    server: &'a Server,
    token: Option<String>,
}

struct Answer {
    status: u16,
    body: Value,
    content_type: String,
}

impl Admin<'_> {
    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Answer {
        let bytes = body.map(|b| serde_json::to_vec(b).expect("JSON")).unwrap_or_default();
        self.raw(method, path, &bytes)
    }

    fn raw(&self, method: &str, path: &str, bytes: &[u8]) -> Answer {
        let headers: Vec<(String, String)> = self
            .token
            .iter()
            .map(|t| ("Authorization".to_owned(), format!("Bearer {t}")))
            .collect();
        let reply = http(&self.server.addr, method, path, &headers, bytes);
        let content_type = reply.header("content-type").unwrap_or_default().to_owned();
        let body = serde_json::from_slice(&reply.body).unwrap_or_else(|e| {
            panic!(
                "{method} {path}: answer {} is not JSON ({e}): {}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            )
        });
        Answer {
            status: reply.status,
            body,
            content_type,
        }
    }

    fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None)
    }

    fn post(&self, path: &str, body: &Value) -> Answer {
        self.call("POST", path, Some(body))
    }

    /// A call that must succeed; its answer.
    fn ok(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let answer = self.call(method, path, body);
        assert_eq!(answer.status, 200, "{method} {path}: {}", answer.body);
        answer.body
    }
}

/// An error answer: its status, and the JSON form `{"error": "...", "field": ...}`.
fn assert_error(answer: &Answer, status: u16, field: Option<&str>) {
    assert_eq!(answer.status, status, "{}", answer.body);
    assert!(
        answer.content_type.starts_with("application/json"),
        "{}",
        answer.content_type
    );
    let error = answer.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error text: {}", answer.body));
    assert!(!error.is_empty());
    assert!(
        error.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "the message is not Chinese: {error}"
    );
    assert_eq!(answer.body["field"].as_str(), field, "{}", answer.body);
    assert_eq!(answer.body.as_object().map(|o| o.len()), Some(2), "{}", answer.body);
}

fn money(value: &Value) -> Money {
    let text = value.as_str().unwrap_or_else(|| panic!("not an amount: {value}"));
    Money::parse_yuan(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn yuan(text: &str) -> Money {
    Money::parse_yuan(text).expect("an amount")
}

/// `percent`% of `base`, to the fen (every figure here is exact).
fn percent_of(base: Money, percent: i64) -> Money {
    let fen = base.fen() * percent;
    assert_eq!(fen % 100, 0, "inexact test figure");
    Money::from_fen(fen / 100)
}

/// A valid citizen ID: 17 digits and their check character.
fn citizen_id(first17: &str) -> String {
    assert_eq!(first17.len(), 17);
    let id = format!("{first17}{}", CitizenId::check_char(first17.as_bytes()) as char);
    CitizenId::parse(&id).expect("a valid citizen ID");
    id
}

/// A valid unified social credit code: 17 characters and their check character.
fn credit_code(first17: &str) -> String {
    let check = CreditCode::check_char(first17.as_bytes()).expect("charset");
    let code = format!("{first17}{}", check as char);
    CreditCode::parse(&code).expect("a valid credit code");
    code
}

/// The base an in-service employee is charged on: the wage within 60%–300% of 8000.
fn clamped_base(wage: Money) -> Money {
    wage.max(yuan("4800")).min(yuan("24000"))
}

fn fund<'a>(indicators: &'a Value, book: &str) -> &'a Value {
    indicators["funds"]
        .as_array()
        .expect("funds")
        .iter()
        .find(|f| f["book"] == book)
        .unwrap_or_else(|| panic!("no fund {book} in {indicators}"))
}

fn enrol_employee(employer: &str) -> Value {
    json!({
        "command": "enrol", "insurance": "310", "region": "500000", "employer": employer,
        "kind": "in_service", "tier": null, "county_class": null, "applied_on": "2026-11-01"
    })
}

// =============================================================================================
// Scenarios.

fn admin_flow(database: &str) {
    let server = Server::start(
        database,
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let anonymous = Admin {
        server: &server,
        token: None,
    };
    let wrong = Admin {
        server: &server,
        token: Some("test-admin-token-0123456789abcdeX".into()),
    };
    let admin = Admin {
        server: &server,
        token: Some(TOKEN.into()),
    };

    // No token, a wrong token: 401, nothing done.
    let employer = credit_code("91500000MA5U00001");
    let register = json!({ "credit_code": employer, "name": "重庆测试科技有限公司", "registered_on": "2020-03-01" });
    assert_error(&anonymous.post("/admin/api/employers", &register), 401, None);
    assert_error(&wrong.post("/admin/api/employers", &register), 401, None);
    assert_error(&anonymous.get("/admin/api/funds/indicators?year=2026"), 401, None);

    // Employers: an invalid code names credit_code; malformed bodies name their field.
    let mut bad_code = employer.clone();
    let last = bad_code.pop().expect("18 characters");
    bad_code.push(if last == '0' { '1' } else { '0' });
    let answer = admin.post(
        "/admin/api/employers",
        &json!({ "credit_code": bad_code, "name": "错误单位", "registered_on": "2020-03-01" }),
    );
    assert_error(&answer, 400, Some("credit_code"));
    assert!(
        answer.body["error"].as_str().unwrap().contains("校验码"),
        "{}",
        answer.body
    );
    assert_error(
        &admin.raw("POST", "/admin/api/employers", b"{\"credit_code\": "),
        400,
        None,
    );
    assert_error(
        &admin.post(
            "/admin/api/employers",
            &json!({ "credit_code": employer, "name": "x", "registered_on": 20200301 }),
        ),
        400,
        Some("registered_on"),
    );
    assert_error(
        &admin.post("/admin/api/employers", &json!({ "credit_code": employer, "name": "x" })),
        400,
        Some("registered_on"),
    );
    // Over the body limit: 413 in the same form.
    let mut large = b"{\"name\": \"".to_vec();
    large.resize(ADMIN_BODY_BYTES_MAX + 16, b'a');
    large.extend_from_slice(b"\"}");
    assert_error(&admin.raw("POST", "/admin/api/employers", &large), 413, None);
    let registered = admin.ok("POST", "/admin/api/employers", Some(&register));
    assert_eq!(registered["credit_code"], employer.as_str());

    // Three in-service employees: wages inside, above and below the base bounds.
    let employees = [
        (citizen_id("11010119800115001"), "张三", "10000"),
        (citizen_id("11010119810220002"), "李四", "30000"),
        (citizen_id("11010119820325003"), "王五", "3000"),
    ];
    let mut person_nos = Vec::new();
    for (certno, name, wage) in &employees {
        let answer = admin.ok(
            "POST",
            &format!("/admin/api/persons/{certno}/commands"),
            Some(&json!({ "name": name, "wage_monthly": wage, "command": enrol_employee(&employer) })),
        );
        let person_no = answer["person_no"].as_str().expect("person_no").to_owned();
        assert!(!person_no.is_empty());
        assert_eq!(answer["psn_insu_stas"], "1", "{answer}");
        person_nos.push(person_no);
    }
    let (employee, _, _) = &employees[0];

    // The same person in resident insurance the same day: 重复参保, 409.
    let answer = admin.post(
        &format!("/admin/api/persons/{employee}/commands"),
        &json!({ "command": {
            "command": "enrol", "insurance": "390", "region": "500000", "employer": null,
            "kind": "adult_resident", "tier": 1, "county_class": "district_county", "applied_on": "2026-11-01"
        }}),
    );
    assert_error(&answer, 409, None);
    assert!(
        answer.body["error"].as_str().unwrap().contains("重复参保"),
        "{}",
        answer.body
    );
    // Malformed commands name their field.
    assert_error(
        &admin.post(
            &format!("/admin/api/persons/{employee}/commands"),
            &json!({ "command": { "command": "enrol", "insurance": "310" } }),
        ),
        400,
        Some("command.region"),
    );
    assert_error(
        &admin.post(
            &format!("/admin/api/persons/{employee}/commands"),
            &json!({ "command": { "command": "fly", "on": "2026-11-01" } }),
        ),
        400,
        Some("command.command"),
    );
    assert_error(
        &admin.post(
            &format!("/admin/api/persons/{employee}/commands"),
            &json!({ "wage_monthly": "ten", "command": enrol_employee(&employer) }),
        ),
        400,
        Some("wage_monthly"),
    );
    // An employer not registered: the platform names command.employer.
    let stranger = credit_code("91500000MA5U00009");
    assert_error(
        &admin.post(
            &format!("/admin/api/persons/{}/commands", citizen_id("11010119830101004")),
            &json!({ "name": "赵六", "command": enrol_employee(&stranger) }),
        ),
        400,
        Some("command.employer"),
    );

    // A resident adult, inside the 2026 collection window, pays tier 1.
    let resident = citizen_id("11010119850505006");
    let answer = admin.ok(
        "POST",
        &format!("/admin/api/persons/{resident}/commands"),
        Some(&json!({ "name": "孙七", "command": {
            "command": "enrol", "insurance": "390", "region": "500000", "employer": null,
            "kind": "adult_resident", "tier": 1, "county_class": "district_county", "applied_on": "2026-01-15"
        }})),
    );
    assert_eq!(answer["psn_insu_stas"], "1", "{answer}");
    let path = format!("/admin/api/persons/{resident}/resident-contributions");
    let paid = admin.ok("POST", &path, Some(&json!({ "paid_on": "2026-01-15" })));
    assert_eq!(paid["insurance_year"], 2026, "{paid}");
    assert_eq!(money(&paid["individual_amount"]), yuan("400"), "{paid}");
    let subsidy: Vec<(String, Money)> = paid["subsidy"]
        .as_array()
        .expect("subsidy")
        .iter()
        .map(|s| (s["level"].as_str().expect("level").to_owned(), money(&s["amount"])))
        .collect();
    assert_eq!(
        subsidy.iter().map(|(_, a)| *a).collect::<Vec<_>>(),
        vec![yuan("536"), yuan("67"), yuan("67")],
        "{paid}"
    );
    assert!(subsidy[0].0.contains("中央"), "{paid}");
    assert_eq!(money(&paid["subsidy_total"]), yuan("670"));
    assert_eq!(money(&paid["critical_illness_income"]), yuan("60"));
    // Twice for the same year: 409; a body with an unknown field: 400 naming it.
    assert_error(&admin.post(&path, &json!({ "paid_on": "2026-02-01" })), 409, None);
    assert_error(
        &admin.post(&path, &json!({ "paid_on": "2026-02-01", "amount": 1 })),
        400,
        Some("amount"),
    );
    let coverage = admin.ok(
        "GET",
        &format!("/admin/api/persons/{resident}/coverage?insutype=390&date=2026-06-01"),
        None,
    );
    assert_eq!(coverage["covered"], true, "{coverage}");
    assert_eq!(coverage["insutype"], "390");
    assert_error(
        &admin.get(&format!(
            "/admin/api/persons/{resident}/coverage?insutype=999&date=2026-06-01"
        )),
        400,
        Some("insutype"),
    );
    assert_error(
        &admin.get(&format!("/admin/api/persons/{resident}/coverage?insutype=390")),
        400,
        Some("date"),
    );
    assert_error(
        &admin.get(&format!("/admin/api/persons/{}", citizen_id("11010119900101007"))),
        400,
        Some("certno"),
    );

    // The monthly run for November charges the three employees on their clamped bases.
    let run = admin.ok(
        "POST",
        "/admin/api/contribution-runs",
        Some(&json!({ "month": "2026-11" })),
    );
    assert_eq!(run["employees"], 3, "{run}");
    let bases: Vec<Money> = employees.iter().map(|(_, _, wage)| clamped_base(yuan(wage))).collect();
    assert_eq!(bases, vec![yuan("10000"), yuan("24000"), yuan("4800")]);
    let total_base: Money = bases.iter().copied().sum();
    assert_eq!(money(&run["employer_amount"]), percent_of(total_base, 9), "{run}");
    assert_eq!(money(&run["individual_amount"]), percent_of(total_base, 2), "{run}");
    assert_eq!(money(&run["account_credit"]), percent_of(total_base, 2), "{run}");
    // The account is the individual 2%: the pool keeps the employer's 9%.
    assert_eq!(money(&run["pooled_income"]), percent_of(total_base, 9), "{run}");
    assert_eq!(money(&run["large_expense_amount"]), yuan("15"), "{run}");
    // A second run for the month: 409; a malformed month: 400 naming it.
    assert_error(
        &admin.post("/admin/api/contribution-runs", &json!({ "month": "2026-11" })),
        409,
        None,
    );
    assert_error(
        &admin.post("/admin/api/contribution-runs", &json!({ "month": "2026-13" })),
        400,
        Some("month"),
    );

    // The first employee's account: one credit of 2% of 10000.
    let view = admin.ok("GET", &format!("/admin/api/persons/{employee}"), None);
    assert_eq!(view["person_no"], person_nos[0].as_str(), "{view}");
    assert_eq!(view["insutype"], "310");
    let entries = view["account_entries"].as_array().expect("account entries");
    assert_eq!(entries.len(), 1, "{view}");
    assert_eq!(money(&entries[0]["amount"]), yuan("200"), "{view}");
    assert_eq!(money(&view["account_balance"]), yuan("200"), "{view}");
    let contributions = view["contributions"].as_array().expect("contributions");
    assert_eq!(contributions.len(), 1, "{view}");
    assert_eq!(money(&contributions[0]["base"]), yuan("10000"));
    assert_eq!(money(&contributions[0]["employer_amount"]), yuan("900"));
    assert_eq!(money(&contributions[0]["individual_amount"]), yuan("200"));

    // Suspended from December: covered in November, not after, with a Chinese reason.
    let covered_before = admin.ok(
        "GET",
        &format!("/admin/api/persons/{employee}/coverage?insutype=310&date=2026-11-20"),
        None,
    );
    assert_eq!(covered_before["covered"], true, "{covered_before}");
    let relationship = covered_before["relationship"].as_u64().expect("relationship");
    assert_eq!(relationship, 1);
    let suspended = admin.ok(
        "POST",
        &format!("/admin/api/persons/{employee}/commands"),
        Some(&json!({ "command": { "command": "suspend", "relationship": relationship, "on": "2026-12-01", "reason": "单位停缴" } })),
    );
    assert_eq!(suspended["psn_insu_stas"], "2", "{suspended}");
    let coverage = admin.ok(
        "GET",
        &format!("/admin/api/persons/{employee}/coverage?insutype=310&date=2026-12-15"),
        None,
    );
    assert_eq!(coverage["covered"], false, "{coverage}");
    let reason = coverage["reason"].as_str().expect("reason");
    assert!(
        reason.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{coverage}"
    );

    // Indicators: what was posted, per fund book.
    let indicators = admin.ok("GET", "/admin/api/funds/indicators?year=2026", None);
    assert_eq!(indicators["year"], 2026);
    let employee_pool = fund(&indicators, "310100");
    assert_eq!(
        money(&employee_pool["income"]),
        money(&run["pooled_income"]),
        "{indicators}"
    );
    let employee_account = fund(&indicators, "310200");
    assert_eq!(
        money(&employee_account["income"]),
        money(&run["account_credit"]),
        "{indicators}"
    );
    let resident_pool = fund(&indicators, "390100");
    // The resident's 400 and the subsidy 670, less the critical-illness premium moved on.
    let resident_income = money(&resident_pool["income"]) - money(&resident_pool["expenditure"]);
    assert_eq!(resident_income, yuan("1010"), "{indicators}");
    for f in indicators["funds"].as_array().expect("funds") {
        assert!(f["warnings"].is_array(), "{f}");
    }
    assert_error(&admin.get("/admin/api/funds/indicators?year=20x6"), 400, Some("year"));
    assert_error(&admin.get("/admin/api/funds/indicators?year=2026&x=1"), 400, Some("x"));

    // Period close, arrears and back pay are reached the same way; bad bodies name the field.
    assert_error(
        &admin.post("/admin/api/funds/period-closes", &json!({ "period": "2026/10" })),
        400,
        Some("period"),
    );
    assert_error(
        &admin.post(
            "/admin/api/funds/period-closes",
            &json!({ "period": "2026-10", "x": 1 }),
        ),
        400,
        Some("x"),
    );
    let closed = admin.ok(
        "POST",
        "/admin/api/funds/period-closes",
        Some(&json!({ "period": "2025-10" })),
    );
    assert_eq!(closed["period"], "2025-10", "{closed}");
    assert_error(
        &admin.post("/admin/api/funds/period-closes", &json!({ "period": "2025-10" })),
        409,
        None,
    );
    let check = admin.ok(
        "POST",
        "/admin/api/arrears-checks",
        Some(&json!({ "month": "2026-12" })),
    );
    assert_eq!(check["grace_months"], 3, "{check}");
    assert_error(
        // November is run: arrears begin at a month not yet collected.
        &admin.post(
            &format!("/admin/api/employers/{employer}/arrears"),
            &json!({ "from_month": "2026-11" }),
        ),
        409,
        None,
    );
    assert_error(
        &admin.post(
            &format!("/admin/api/employers/{stranger}/back-payments"),
            &json!({ "paid_on": "2026-12-01" }),
        ),
        400,
        Some("credit_code"),
    );

    // Unknown paths and methods under the prefix answer in the same form.
    assert_error(&admin.get("/admin/api/nothing"), 404, None);
    assert_error(&admin.call("DELETE", "/admin/api/contribution-runs", None), 405, None);

    // The log names the requests, never the token, and masks citizen IDs.
    let log = server.log_text();
    assert!(log.contains("admin request"), "{log}");
    assert!(!log.contains(TOKEN), "the token is in the log");
    assert!(!log.contains(employee.as_str()), "a citizen ID is in the log");
    assert!(
        log.lines()
            .any(|l| l.contains("admin request") && l.contains("/admin/api/contribution-runs") && l.contains("409")),
        "{log}"
    );
}

#[test]
fn sqlite_admin_flow() {
    let db = TestDb::sqlite("yibao_admin_api");
    admin_flow(db.url());
}

#[test]
fn postgres_admin_flow() {
    let db = TestDb::postgres("admin_api");
    admin_flow(db.url());
}

/// A national-interface 9001 from `code`, signed with x-tif headers from `paas_id`/`secret`:
/// the answer's `infcode` and `err_msg`.
fn sign_in(server: &Server, code: &str, paas_id: &str, secret: &str) -> (i64, String) {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let nonce = unique("n");
    let headers = vec![
        ("x-tif-paasid".to_owned(), paas_id.to_owned()),
        ("x-tif-timestamp".to_owned(), timestamp.clone()),
        ("x-tif-nonce".to_owned(), nonce.clone()),
        (
            "x-tif-signature".to_owned(),
            yibao_server::sign(&timestamp, secret, &nonce),
        ),
    ];
    let msgid = format!(
        "{code}{}{:04}",
        chrono::Local::now().format("%Y%m%d%H%M%S"),
        rand_serial()
    );
    let body = json!({
        "infno": "9001", "msgid": msgid, "fixmedins_code": code, "inf_time": "",
        "input": { "signIn": { "opter_no": "01", "ip": "127.0.0.1" } },
    });
    let reply = http(
        &server.addr,
        "POST",
        "/fsi/api/rsfComIfsService/callService",
        &headers,
        body.to_string().as_bytes(),
    );
    let answer: Value = serde_json::from_slice(&reply.body).expect("JSON");
    (
        answer["infcode"].as_i64().expect("infcode"),
        answer["err_msg"].as_str().unwrap_or_default().to_owned(),
    )
}

fn rand_serial() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed) % 10_000
}

/// A region registers its own institutions: `PUT /admin/api/institutions/{code}` takes effect
/// for the national interface at once (new credentials, new secret, suspension), the list never
/// shows secrets, and bad fields and a taken `paas_id` are refused by name.
fn institution_registry(database: &str) {
    let server = Server::start(
        database,
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let admin = Admin {
        server: &server,
        token: Some(TOKEN.into()),
    };
    let code = "H50011200077";
    let body = |secret: &str, active: bool| {
        json!({ "name": "渝北区第七人民医院", "hosp_lv": "05", "admdvs": "500112",
                "paas_id": "yb-h50011200077", "secret": secret, "active": active })
    };
    // Unknown before registration, told as a wrong signature is: nobody learns which access
    // ids exist.
    let (infcode, message) = sign_in(&server, code, "yb-h50011200077", "first-secret-1");
    assert_eq!((infcode, message.as_str()), (-1, yibao_server::AUTH_REFUSED));

    let path = format!("/admin/api/institutions/{code}");
    let created = admin.call("PUT", &path, Some(&body("first-secret-1", true)));
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["institution"]["code"], code);
    assert!(created.body["institution"].get("secret").is_none(), "{}", created.body);
    assert_eq!(sign_in(&server, code, "yb-h50011200077", "first-secret-1").0, 0);

    // A new secret replaces the old one at once.
    assert_eq!(
        admin.call("PUT", &path, Some(&body("second-secret-2", true))).status,
        200
    );
    assert_eq!(
        sign_in(&server, code, "yb-h50011200077", "first-secret-1").1,
        yibao_server::AUTH_REFUSED
    );
    assert_eq!(sign_in(&server, code, "yb-h50011200077", "second-secret-2").0, 0);

    // Suspended: refused, then resumed.
    assert_eq!(
        admin.call("PUT", &path, Some(&body("second-secret-2", false))).status,
        200
    );
    assert_eq!(
        sign_in(&server, code, "yb-h50011200077", "second-secret-2").1,
        "非法用户: 机构已暂停"
    );
    assert_eq!(
        admin.call("PUT", &path, Some(&body("second-secret-2", true))).status,
        200
    );
    assert_eq!(sign_in(&server, code, "yb-h50011200077", "second-secret-2").0, 0);

    // The list: every institution, this one among them, no secrets anywhere.
    let list = admin.ok("GET", "/admin/api/institutions", None);
    let rows = list["institutions"].as_array().expect("institutions");
    assert!(rows.len() > 1, "the demo institutions and the new one");
    assert!(rows.iter().all(|r| r.get("secret").is_none()));
    let ours = rows.iter().find(|r| r["code"] == code).expect("registered");
    assert_eq!(ours["active"], true);
    assert_eq!(ours["hosp_lv"], "05");

    // Refusals name the field; another institution's paas_id is taken.
    let mut taken = body("third-secret-3", true);
    taken["paas_id"] = json!("yb-h50011200077");
    assert_error(
        &admin.call("PUT", "/admin/api/institutions/H50011200078", Some(&taken)),
        409,
        Some("paas_id"),
    );
    for (field, value) in [
        ("hosp_lv", json!("15")),
        ("admdvs", json!("5001")),
        ("secret", json!("short")),
        ("paas_id", json!("has space")),
        ("name", json!("")),
    ] {
        let mut wrong = body("third-secret-3", true);
        wrong[field] = value;
        assert_error(&admin.call("PUT", &path, Some(&wrong)), 400, Some(field));
    }
    assert_error(
        &admin.call("PUT", "/admin/api/institutions/X1", Some(&body("third-secret-3", true))),
        400,
        Some("code"),
    );
    // Nothing refused changed the institution.
    assert_eq!(sign_in(&server, code, "yb-h50011200077", "second-secret-2").0, 0);

    // The store keeps every secret sealed: no secret, demo or registered, is in the database.
    let secrets = query_texts(database, "SELECT secret FROM institutions");
    assert!(secrets.len() > 1);
    for secret in &secrets {
        assert!(secret.starts_with("sealed:v1:"), "{secret}");
        assert!(!secret.contains("secret"), "{secret}");
    }

    // A demo institution's secret rotated and this one suspended survive a restart: the demo
    // region is seeded into an empty store only.
    let demo = yibao_demo::demo_institutions().swap_remove(0);
    let rotated = json!({ "name": demo.name, "hosp_lv": demo.hosp_lv, "admdvs": demo.admdvs,
                          "paas_id": demo.paas_id, "secret": "rotated-demo-secret", "active": true });
    assert_eq!(
        admin
            .call("PUT", &format!("/admin/api/institutions/{}", demo.code), Some(&rotated))
            .status,
        200
    );
    assert_eq!(
        admin.call("PUT", &path, Some(&body("second-secret-2", false))).status,
        200
    );
    drop(server);
    let server = Server::start(
        database,
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    assert_eq!(
        sign_in(&server, &demo.code, &demo.paas_id, &demo.secret).1,
        yibao_server::AUTH_REFUSED,
        "the demo secret did not come back"
    );
    assert_eq!(sign_in(&server, &demo.code, &demo.paas_id, "rotated-demo-secret").0, 0);
    assert_eq!(
        sign_in(&server, code, "yb-h50011200077", "second-secret-2").1,
        "非法用户: 机构已暂停",
        "the suspension did not lift"
    );
    drop(server);

    // Key rotation: a new key on the first line; at start every secret is sealed again with it,
    // after which the old key can go.
    let key_file = match database.strip_prefix("sqlite://") {
        Some(path) => std::path::PathBuf::from(format!("{path}.keys")),
        None => key_file_for(database),
    };
    let old_keys = std::fs::read_to_string(&key_file).expect("the key file the server made");
    let new_key = "r2 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    std::fs::write(&key_file, format!("{new_key}\n{old_keys}")).unwrap();
    drop(Server::start(database, &Options::default()));
    for secret in query_texts(database, "SELECT secret FROM institutions") {
        assert!(secret.starts_with("sealed:v1:r2:"), "{secret}");
    }
    std::fs::write(&key_file, format!("{new_key}\n")).unwrap();
    let server = Server::start(database, &Options::default());
    assert_eq!(sign_in(&server, &demo.code, &demo.paas_id, "rotated-demo-secret").0, 0);
}

#[test]
fn sqlite_institution_registry() {
    let db = TestDb::sqlite("yibao_admin_api");
    institution_registry(db.url());
}

#[test]
fn postgres_institution_registry() {
    let db = TestDb::postgres("admin_api");
    institution_registry(db.url());
}

/// The OpenAPI description parses, and lists exactly the server's routes, each of which is
/// routed (answers something other than the unknown-path 404).
#[test]
fn openapi_describes_every_route() {
    let db = TestDb::sqlite("yibao_admin_api");
    let server = Server::start(
        db.url(),
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let admin = Admin {
        server: &server,
        token: Some(TOKEN.into()),
    };
    let doc = admin.ok("GET", "/admin/api/openapi.json", None);
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "{doc}");
    assert_eq!(doc["components"]["securitySchemes"]["adminToken"]["scheme"], "bearer");
    assert!(doc["components"]["schemas"]["Error"].is_object());
    let mut described: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            described.push((method.to_uppercase(), path.clone()));
            assert!(operation["responses"]["200"].is_object(), "{method} {path}");
            assert!(
                operation["description"]
                    .as_str()
                    .is_some_and(|d| d.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) && d.contains(' ')),
                "{method} {path} lacks a Chinese and English description"
            );
        }
    }
    let mut routed: Vec<(String, String)> = yibao_server::admin::ADMIN_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    described.sort();
    routed.sort();
    assert_eq!(described, routed, "the OpenAPI paths and the server's routes differ");
    let certno = citizen_id("11010119800115001");
    for (method, path) in &routed {
        let path = path.replace("{certno}", &certno);
        let body = if method == "POST" { Some(json!({})) } else { None };
        let answer = admin.call(method, &path, body.as_ref());
        assert!(
            answer.status != 404 && answer.status != 405,
            "{method} {path} is not routed: {} {}",
            answer.status,
            answer.body
        );
    }
}

/// Without a token every admin route answers 403; `--no-auth` opens them; a token file works.
#[test]
fn access_is_configured_by_token_env_file_or_no_auth() {
    let db = TestDb::sqlite("yibao_admin_api");
    {
        let server = Server::start(db.url(), &Options::default());
        for token in [None, Some(TOKEN.to_owned())] {
            let client = Admin { server: &server, token };
            for (method, path) in yibao_server::admin::ADMIN_ROUTES {
                let path = path.replace("{certno}", &citizen_id("11010119800115001"));
                let answer = client.call(method, &path, Some(&json!({})));
                assert_error(&answer, 403, None);
                assert_eq!(answer.body["error"], DISABLED_MESSAGE);
            }
        }
    }
    {
        let server = Server::start(
            db.url(),
            &Options {
                admin_token: Some(TOKEN.into()),
                args: vec!["--no-auth".into()],
            },
        );
        let client = Admin {
            server: &server,
            token: None,
        };
        assert_eq!(client.get("/admin/api/funds/indicators?year=2026").status, 200);
        assert!(server.log_text().contains("/admin/api"), "{}", server.log_text());
    }
    {
        let file = std::env::temp_dir().join(format!("{}.token", unique("yibao_admin_token")));
        std::fs::write(&file, "file-token-abcdefghijklmnop\n").expect("write the token file");
        let server = Server::start(
            db.url(),
            &Options {
                admin_token: Some(TOKEN.into()),
                args: vec!["--admin-token-file".into(), file.display().to_string()],
            },
        );
        let by_file = Admin {
            server: &server,
            token: Some("file-token-abcdefghijklmnop".into()),
        };
        assert_eq!(by_file.get("/admin/api/funds/indicators?year=2026").status, 200);
        let by_env = Admin {
            server: &server,
            token: Some(TOKEN.into()),
        };
        assert_error(&by_env.get("/admin/api/funds/indicators?year=2026"), 401, None);
        drop(server);
        let _ = std::fs::remove_file(&file);
    }
}

/// Concurrent admin requests must see each other, however the platform thread batches them:
/// of eight runs for one month exactly one is done and the others are refused (409, not a 500
/// from a failed commit that also fails every other request of the batch), and of a 310 and a
/// 390 enrolment of one person on one day exactly one is done and the other is 重复参保.
/// (The platform runs each administrative request in a batch of its own, after every earlier
/// batch is durable: `crates/platform/src/actor.rs`.)
#[test]
fn concurrent_admin_requests_see_each_other() {
    let db = TestDb::sqlite("yibao_admin_api");
    let server = Server::start(
        db.url(),
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let admin = Admin {
        server: &server,
        token: Some(TOKEN.into()),
    };
    let employer = credit_code("91500000MA5U00001");
    admin.ok(
        "POST",
        "/admin/api/employers",
        Some(&json!({ "credit_code": employer, "name": "重庆测试科技有限公司", "registered_on": "2020-03-01" })),
    );
    let certno = citizen_id("11010119800115001");
    admin.ok(
        "POST",
        &format!("/admin/api/persons/{certno}/commands"),
        Some(&json!({ "name": "张三", "wage_monthly": "10000", "command": enrol_employee(&employer) })),
    );
    // Posts all at once (after a barrier); the statuses, sorted.
    let statuses = |calls: Vec<(String, Value)>| -> Vec<u16> {
        let barrier = Arc::new(std::sync::Barrier::new(calls.len()));
        let handles: Vec<_> = calls
            .into_iter()
            .map(|(path, body)| {
                let barrier = barrier.clone();
                let addr = server.addr.clone();
                std::thread::spawn(move || {
                    let headers = vec![("Authorization".to_owned(), format!("Bearer {TOKEN}"))];
                    let bytes = serde_json::to_vec(&body).expect("JSON");
                    barrier.wait();
                    http(&addr, "POST", &path, &headers, &bytes).status
                })
            })
            .collect();
        let mut out: Vec<u16> = handles.into_iter().map(|h| h.join().expect("client")).collect();
        out.sort_unstable();
        out
    };
    let runs = statuses(
        (0..8)
            .map(|_| ("/admin/api/contribution-runs".to_owned(), json!({ "month": "2026-11" })))
            .collect(),
    );
    assert_eq!(runs, vec![200, 409, 409, 409, 409, 409, 409, 409]);
    for n in 0..5 {
        let other = citizen_id(&format!("1101011981010100{n}"));
        let resident = json!({ "name": "李四", "command": {
            "command": "enrol", "insurance": "390", "region": "500000", "employer": null,
            "kind": "adult_resident", "tier": 1, "county_class": "district_county", "applied_on": "2026-01-15"
        }});
        let employee = json!({ "name": "李四", "wage_monthly": "10000", "command": {
            "command": "enrol", "insurance": "310", "region": "500000", "employer": employer,
            "kind": "in_service", "tier": null, "county_class": null, "applied_on": "2026-01-15"
        }});
        let path = format!("/admin/api/persons/{other}/commands");
        assert_eq!(
            statuses(vec![(path.clone(), resident), (path, employee)]),
            vec![200, 409],
            "both enrolments of one person passed"
        );
    }
}

/// The monthly run charges who was enrolled and paying in that month: not a person enrolled
/// only from the next month, and still a person suspended from the next month.
#[test]
fn the_run_charges_by_the_status_in_its_month() {
    let db = TestDb::sqlite("yibao_admin_api");
    let server = Server::start(
        db.url(),
        &Options {
            admin_token: Some(TOKEN.into()),
            ..Options::default()
        },
    );
    let admin = Admin {
        server: &server,
        token: Some(TOKEN.into()),
    };
    let employer = credit_code("91500000MA5U00001");
    admin.ok(
        "POST",
        "/admin/api/employers",
        Some(&json!({ "credit_code": employer, "name": "重庆测试科技有限公司", "registered_on": "2020-03-01" })),
    );
    let certno = citizen_id("11010119800115001");
    admin.ok(
        "POST",
        &format!("/admin/api/persons/{certno}/commands"),
        Some(&json!({ "name": "张三", "wage_monthly": "10000", "command": enrol_employee(&employer) })),
    );
    let october = admin.ok(
        "POST",
        "/admin/api/contribution-runs",
        Some(&json!({ "month": "2026-10" })),
    );
    admin.ok(
        "POST",
        &format!("/admin/api/persons/{certno}/commands"),
        Some(&json!({ "command": { "command": "suspend", "relationship": 1, "on": "2026-12-01", "reason": "单位停缴" } })),
    );
    let november = admin.ok(
        "POST",
        "/admin/api/contribution-runs",
        Some(&json!({ "month": "2026-11" })),
    );
    assert_eq!(
        (october["employees"].as_u64(), november["employees"].as_u64()),
        (Some(0), Some(1)),
        "enrolled from 2026-11-01 and suspended from 2026-12-01: charged for November only"
    );
}
