//! A failure is whole: a panic on the platform thread ends the process (and a restart finds
//! what was committed), and `/health` fails while the platform cannot take requests, so that a
//! supervisor restarts or routes around it. The real `yibao serve`, over real HTTP.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use yibao_demo::{demo_institutions, demo_person};

mod support;
use support::*;

const NATIONAL_PATH: &str = "/fsi/api/rsfComIfsService/callService";
const DEMO_PERSONS: usize = 50;

fn msgid(code: &str, serial: u32) -> String {
    format!("{code}{}{serial:04}", chrono::Local::now().format("%Y%m%d%H%M%S"))
}

/// An unsigned (`--no-auth`) national call from the first demo institution.
fn call(server: &Server, infno: &str, serial: u32, input: Value) -> std::io::Result<HttpReply> {
    let code = demo_institutions().swap_remove(0).code;
    let body = json!({ "infno": infno, "msgid": msgid(&code, serial), "fixmedins_code": code, "input": input });
    try_http(&server.addr, "POST", NATIONAL_PATH, &[], body.to_string().as_bytes())
}

fn health(server: &Server) -> (u16, Value) {
    let reply = http(&server.addr, "GET", "/health", &[], b"");
    let body = serde_json::from_slice(&reply.body).expect("/health answers JSON");
    (reply.status, body)
}

fn registration() -> Value {
    let p = demo_person(0);
    json!({ "data": {
        "psn_no": p.person_no, "insutype": p.insurance.code(),
        "begntime": chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
        "mdtrt_cert_type": "02", "mdtrt_cert_no": p.certno, "ipt_otp_no": "OTP-H",
        "atddr_no": "D1", "dr_name": "李医生", "dept_code": "A01", "dept_name": "内科", "caty": "A03",
    } })
}

fn sign_in() -> Value {
    json!({ "signIn": { "opter_no": "01", "ip": "127.0.0.1" } })
}

#[test]
fn a_panic_on_the_platform_thread_ends_the_process() {
    let db = TestDb::sqlite("yibao_health_panic");
    let no_auth = ["--no-auth".to_owned()];
    let mut server = Server::start_with_env(
        db.url(),
        DEMO_PERSONS,
        &no_auth,
        None,
        &[(yibao_platform::FAULT_PANIC_INFNO_ENV, "9002")],
    );
    let (status, body) = health(&server);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["platform_thread"], "alive");
    assert_eq!(body["commit_thread"], "alive");
    assert!(body["last_commit_age_ms"].is_u64(), "seeding committed: {body}");
    // A visit registered and committed before the failure.
    let registered: Value = serde_json::from_slice(&call(&server, "2201", 1, registration()).unwrap().body).unwrap();
    assert_eq!(registered["infcode"], 0, "{registered}");
    let mdtrt_id = registered["output"]["data"]["mdtrt_id"].as_str().unwrap().to_owned();

    // 9002 trips the injected fault on the platform thread: the whole process goes.
    let _ = call(
        &server,
        "9002",
        2,
        json!({ "signOut": { "sign_no": "1", "opter_no": "01" } }),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("poll the server") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the process outlived the panic of its platform thread"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "{status}");
    std::thread::sleep(Duration::from_millis(100));
    let log = server.log_text();
    assert!(log.contains("致命错误,进程终止 (thread yibao-platform)"), "{log}");

    // Restarted on the same database: what was committed is there.
    drop(server);
    server = Server::start_with(db.url(), DEMO_PERSONS, &no_auth, None);
    let p = demo_person(0);
    let visits: Value = serde_json::from_slice(
        &call(&server, "5201", 3, json!({ "data": { "psn_no": p.person_no } }))
            .unwrap()
            .body,
    )
    .unwrap();
    let ids: Vec<&str> = visits["output"]["mdtrtinfo"]
        .as_array()
        .expect("visits")
        .iter()
        .filter_map(|v| v["mdtrt_id"].as_str())
        .collect();
    assert_eq!(ids, [mdtrt_id.as_str()], "{visits}");
    assert_eq!(health(&server).0, 200);
}

/// The commit thread blocked on a lock another session holds: requests wait, `/health` says
/// 503 with the platform not answering; the lock released, both recover.
#[test]
fn health_fails_while_the_platform_is_wedged() {
    let db = TestDb::postgres("health_wedge");
    let server = Server::start_with(db.url(), DEMO_PERSONS, &["--no-auth".to_owned()], None);
    assert_eq!(health(&server).0, 200);

    let (base, schema) = match db.url().split_once("schema=") {
        Some((head, name)) => (head.trim_end_matches(['?', '&']).to_owned(), name.to_owned()),
        None => panic!("a PostgreSQL test database has a schema"),
    };
    let mut locker = ::postgres::Client::connect(&with_param(&base, "connect_timeout=10"), ::postgres::NoTls)
        .expect("connect to PostgreSQL");
    locker
        .batch_execute(&format!(
            "SET search_path TO \"{schema}\"; BEGIN; LOCK TABLE audit_log IN ACCESS EXCLUSIVE MODE"
        ))
        .expect("take the lock");

    // A request whose batch writes its audit line: its commit waits on the lock.
    let addr = server.addr.clone();
    let waiting = std::thread::spawn(move || {
        let code = demo_institutions().swap_remove(0).code;
        let body = json!({ "infno": "9001", "msgid": msgid(&code, 9), "fixmedins_code": code, "input": sign_in() });
        try_http(&addr, "POST", NATIONAL_PATH, &[], body.to_string().as_bytes())
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    let wedged = loop {
        let (status, body) = health(&server);
        if status == 503 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "/health kept answering {status} while the commit was blocked: {body}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(wedged["status"], "unavailable", "{wedged}");
    assert_eq!(wedged["platform_answers"], false, "{wedged}");
    assert_eq!(wedged["platform_thread"], "alive", "{wedged}");

    locker.batch_execute("ROLLBACK").expect("release the lock");
    let answer = waiting.join().expect("the waiting request").expect("it is answered");
    let answer: Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(answer["infcode"], 0, "{answer}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while health(&server).0 != 200 {
        assert!(
            Instant::now() < deadline,
            "/health did not recover after the lock was released"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
