//! The three authentication schemes over real HTTP: the server's router on a free port of
//! 127.0.0.1, the platform on a temporary SQLite file seeded with a few demo persons, and a
//! hand-written HTTP/1.1 client on `TcpStream` (no client library, nothing shared with the
//! server but the signing functions it publishes for clients).
//!
//! A HIS looks a demo person up (1101) signed with `_api_*` headers, then with an OAuth2 bearer
//! token from `/auth/oauth/token`; refusals come back in the national envelope (`infcode` -1,
//! the gateway's text in `err_msg`), token-endpoint refusals as OAuth2 JSON errors.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::{json, Value};
use yibao_demo::{demo_institutions, demo_person, DemoInstitution, DemoPerson};
use yibao_server::{router, sign_api, AdminAccess, AppState, Credentials, NATIONAL_PATH};

const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// The key file the test's institution secrets are sealed with.
const TEST_KEYS: &str = "t1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
/// Demo persons seeded: the test looks up the first.
const DEMO_PERSONS: usize = 3;

/// A temporary SQLite file, removed when dropped.
struct TempDb(PathBuf);

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal", "-writer.lock"] {
            let mut file = self.0.clone().into_os_string();
            file.push(suffix);
            let _ = std::fs::remove_file(file);
        }
    }
}

/// The server under test, with authentication on (`addr`) and off (`open_addr`), sharing one
/// platform. The runtime serving them stops when this is dropped.
struct Server {
    addr: SocketAddr,
    open_addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
    _db: TempDb,
}

fn start_server() -> Server {
    let path = std::env::temp_dir().join(format!("yibao-auth-schemes-{}.db", std::process::id()));
    let db = TempDb(path.clone());
    let url = format!("sqlite://{}", path.display());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/chongqing");
    let policy_text = std::fs::read_to_string(root.join("2023.toml")).unwrap();
    let policy = yibao_policy::load_policy("2023.toml", &policy_text).unwrap();
    let region = yibao_platform::Region {
        admdvs: policy.region.clone(),
        versions: vec![policy],
        catalog: yibao_demo::demo_catalog(),
        contribution: Vec::new(),
        monitor: Vec::new(),
    };
    let mut writer = yibao_store::open(&url).unwrap();
    writer.lock_writer().unwrap();
    writer.migrate().unwrap();
    let platform = yibao_platform::Platform::start(yibao_store::open(&url).unwrap(), writer, region).unwrap();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (addr, open_addr) = runtime.block_on(async {
        let keys = Arc::new(yibao_server::SecretKeys::parse(TEST_KEYS).unwrap());
        yibao_server::demo::seed(&platform, &keys, DEMO_PERSONS).await.unwrap();
        let (institutions, reseal) = keys.open_all(platform.institutions().await.unwrap()).unwrap();
        assert!(reseal.is_empty(), "seeded secrets are sealed with the current key");
        let mut addrs = Vec::new();
        for credentials in [Some(Arc::new(RwLock::new(Credentials::new(institutions)))), None] {
            let state = AppState {
                platform: platform.clone(),
                credentials,
                admin: AdminAccess::Disabled,
                staff: std::sync::Arc::new(yibao_server::StaffTokens::default()),
                keys: keys.clone(),
            };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(listener.local_addr().unwrap());
            tokio::spawn(async move { axum::serve(listener, router(state)).await });
        }
        (addrs[0], addrs[1])
    });
    Server {
        addr,
        open_addr,
        _runtime: runtime,
        _db: db,
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// A national answer's output, after checking it succeeded.
    fn output(&self) -> Value {
        let json = self.json();
        assert_eq!(self.status, 200);
        assert_eq!(json["infcode"], 0, "expected success: {json}");
        json["output"].clone()
    }

    /// Checks a national answer is a refusal with `message`.
    fn refused(&self, message: &str) {
        let json = self.json();
        assert_eq!(self.status, 200, "refusals are answered 200 in the envelope: {json}");
        assert_eq!(json["infcode"], -1, "expected a refusal: {json}");
        assert_eq!(json["err_msg"], message);
        assert!(json["output"].is_null());
    }
}

/// One HTTP/1.1 exchange, the connection closed after it.
fn http(addr: SocketAddr, path: &str, headers: &[(&str, String)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(HTTP_TIMEOUT)).unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("the server answers with a length");
    Reply {
        status,
        headers,
        body: rest[..length].to_vec(),
    }
}

fn institution() -> DemoInstitution {
    demo_institutions().into_iter().next().unwrap()
}

fn person() -> DemoPerson {
    demo_person(0)
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A 1101 (person information) envelope from `institution` for `person`.
fn lookup(institution: &DemoInstitution, person: &DemoPerson) -> Vec<u8> {
    static SERIAL: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let now = chrono::Local::now();
    let envelope = json!({
        "infno": "1101",
        "msgid": format!("{}{}{serial:04}", institution.code, now.format("%Y%m%d%H%M%S")),
        "mdtrtarea_admvs": yibao_demo::DEMO_ADMDVS,
        "insuplc_admdvs": yibao_demo::DEMO_ADMDVS,
        "recer_sys_code": "YBXT",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "001",
        "opter_name": "收费员",
        "inf_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
        "fixmedins_code": institution.code,
        "fixmedins_name": institution.name,
        "input": { "data": { "psn_cert_type": "01", "certno": person.certno } },
    });
    serde_json::to_vec(&envelope).unwrap()
}

/// `_api_*` headers for `access_key` signed with `secret` at `timestamp_ms`.
fn api_headers(access_key: &str, secret: &str, timestamp_ms: i64) -> Vec<(&'static str, String)> {
    let timestamp_ms = timestamp_ms.to_string();
    let signature = sign_api("hsa.fsi.1101", "1.0.0", &timestamp_ms, access_key, secret);
    vec![
        ("_api_name", "hsa.fsi.1101".to_owned()),
        ("_api_version", "1.0.0".to_owned()),
        ("_api_timestamp", timestamp_ms),
        ("_api_access_key", access_key.to_owned()),
        ("_api_signature", signature),
    ]
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{id}:{secret}")))
}

const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

fn token_request(addr: SocketAddr, authorization: Option<String>, form: &[u8]) -> Reply {
    let mut headers = vec![(FORM.0, FORM.1.to_owned())];
    if let Some(authorization) = authorization {
        headers.push(("authorization", authorization));
    }
    http(addr, "/auth/oauth/token", &headers, form)
}

#[test]
fn api_signatures_and_bearer_tokens_over_http() {
    let server = start_server();
    let his = institution();
    let p = person();

    // ---- `_api_*` HMAC-SHA1 ----
    let answer = http(
        server.addr,
        NATIONAL_PATH,
        &api_headers(&his.paas_id, &his.secret, now_millis()),
        &lookup(&his, &p),
    );
    assert_eq!(answer.output()["baseinfo"]["certno"], p.certno.as_str());

    http(
        server.addr,
        NATIONAL_PATH,
        &api_headers(&his.paas_id, "not-the-secret", now_millis()),
        &lookup(&his, &p),
    )
    .refused(yibao_server::AUTH_REFUSED);
    http(
        server.addr,
        NATIONAL_PATH,
        &api_headers(&his.paas_id, &his.secret, now_millis() - 301_000),
        &lookup(&his, &p),
    )
    .refused("签名时间戳超时");
    http(
        server.addr,
        NATIONAL_PATH,
        &api_headers("nobody", &his.secret, now_millis()),
        &lookup(&his, &p),
    )
    .refused(yibao_server::AUTH_REFUSED);
    // The same signed headers a second time: refused, whatever the body.
    let once = api_headers(&his.paas_id, &his.secret, now_millis());
    assert_eq!(
        http(server.addr, NATIONAL_PATH, &once, &lookup(&his, &p)).json()["infcode"],
        0
    );
    http(server.addr, NATIONAL_PATH, &once, &lookup(&his, &p))
        .refused("签名已使用: _api_signature重复,每个请求须用新的签名");
    // A signature made for 1101 does not authorize another transaction.
    let mut settlement_query: Value = serde_json::from_slice(&lookup(&his, &p)).unwrap();
    settlement_query["infno"] = json!("5203");
    settlement_query["input"] = json!({ "data": { "psn_no": p.person_no, "setl_id": "S1", "mdtrt_id": "M1" } });
    http(
        server.addr,
        NATIONAL_PATH,
        &api_headers(&his.paas_id, &his.secret, now_millis()),
        &serde_json::to_vec(&settlement_query).unwrap(),
    )
    .refused("_api_name: 签名的交易1101与报文的交易编号5203不符");
    let mut unsigned = api_headers(&his.paas_id, &his.secret, now_millis());
    unsigned.retain(|(name, _)| *name != "_api_signature");
    http(server.addr, NATIONAL_PATH, &unsigned, &lookup(&his, &p)).refused("缺少服务网关的请求头_api_signature");
    // No authentication at all: the x-tif header is named, as before.
    http(server.addr, NATIONAL_PATH, &[], &lookup(&his, &p)).refused("缺少服务网关的请求头x-tif-paasid");

    // ---- OAuth2 ----
    let grant = token_request(
        server.addr,
        Some(basic(&his.paas_id, &his.secret)),
        b"grant_type=password&username=001&password=123456&scope=server",
    );
    assert_eq!(grant.status, 200, "{}", String::from_utf8_lossy(&grant.body));
    assert_eq!(grant.header("cache-control"), Some("no-store"));
    let grant = grant.json();
    assert_eq!(grant["token_type"], "bearer");
    assert_eq!(grant["expires_in"], 7200);
    assert_eq!(grant["scope"], "server");
    let token = grant["access_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);

    let bearer = [("authorization", format!("Bearer {token}"))];
    let answer = http(server.addr, NATIONAL_PATH, &bearer, &lookup(&his, &p));
    assert_eq!(answer.output()["baseinfo"]["certno"], p.certno.as_str());
    // By the transaction code in the URL too.
    let answer = http(
        server.addr,
        &format!("{NATIONAL_PATH}/1101"),
        &bearer,
        &lookup(&his, &p),
    );
    assert_eq!(answer.output()["baseinfo"]["certno"], p.certno.as_str());

    // The token is the institution's: another institution's envelope is refused.
    let other = demo_institutions().into_iter().nth(1).unwrap();
    http(server.addr, NATIONAL_PATH, &bearer, &lookup(&other, &p)).refused(&format!(
        "fixmedins_code: 报文中的机构编号{}与签名机构{}不符",
        other.code, his.code
    ));
    http(
        server.addr,
        NATIONAL_PATH,
        &[("authorization", format!("Bearer {}", "0".repeat(64)))],
        &lookup(&his, &p),
    )
    .refused("非法用户: 访问令牌无效");
    http(
        server.addr,
        NATIONAL_PATH,
        &[("authorization", basic(&his.paas_id, &his.secret))],
        &lookup(&his, &p),
    )
    .refused("非法用户: 请求头Authorization应为Bearer访问令牌");

    // Token-endpoint refusals, as OAuth2 errors.
    let refused = token_request(
        server.addr,
        Some(basic(&his.paas_id, "not-the-secret")),
        b"grant_type=password",
    );
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("www-authenticate"), Some("Basic realm=\"oauth\""));
    assert_eq!(
        refused.json(),
        json!({ "error": "invalid_client", "error_description": "客户端认证失败: clientId或clientSecret不正确" })
    );
    let refused = token_request(server.addr, None, b"grant_type=client_credentials");
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "invalid_client");
    let refused = token_request(
        server.addr,
        Some(basic(&his.paas_id, &his.secret)),
        b"grant_type=refresh_token&refresh_token=x",
    );
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({ "error": "unsupported_grant_type", "error_description": "不支持的授权类型refresh_token" })
    );
    let big = [b"grant_type=password&scope=".as_slice(), &[b'a'; 5000]].concat();
    let refused = token_request(server.addr, Some(basic(&his.paas_id, &his.secret)), &big);
    assert_eq!(refused.status, 400);
    assert_eq!(refused.json()["error"], "invalid_request");

    // client_credentials works as well, and the earlier token still does.
    let grant = token_request(
        server.addr,
        Some(basic(&his.paas_id, &his.secret)),
        b"grant_type=client_credentials",
    );
    assert_eq!(grant.status, 200);
    assert!(grant.json().get("scope").is_none());
    http(server.addr, NATIONAL_PATH, &bearer, &lookup(&his, &p)).output();

    // With authentication off there is no token to get.
    let off = token_request(
        server.open_addr,
        Some(basic(&his.paas_id, &his.secret)),
        b"grant_type=password",
    );
    assert_eq!(off.status, 404);
    assert_eq!(off.json()["error"], "unsupported");
}
