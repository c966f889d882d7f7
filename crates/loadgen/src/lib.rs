//! Simulated HIS clients. Each client runs visits one after another: register (2201), upload the
//! visit information (2203), upload ten fee lines (2204), settle (2207). A request that fails in
//! transport (the server is down or restarting) is retried with the same `msgid`, as real HIS
//! clients do, so the platform's replay guarantees that every visit settles exactly once.
//!
//! The generator shares the machine with the server it measures, so it is built to spend little
//! CPU per request: bodies are written straight into one buffer from pre-rendered pieces, the
//! x-tif signature is computed once per second per institution, answers are parsed into small
//! typed structs that skip what the client does not read, and each client owns one keep-alive
//! HTTP/1.1 connection that it drives in its own task (no pool, no connection task).

use std::fmt::Write as _;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Uri};
use hyper_util::rt::TokioIo;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use tokio::net::TcpStream;
use yibao_demo::{demo_institutions, demo_items, demo_person, DemoInstitution, SplitMix64, DEMO_PERSONS};
use yibao_money::{Money, Quantity, Rounding};

/// One acknowledged settlement, as the client saw it.
#[derive(Clone, Debug)]
pub struct Acknowledged {
    pub setl_id: String,
    pub msgid: String,
    pub institution: String,
    pub insutype: String,
    pub person_no: String,
    pub total: Money,
    pub fund: Money,
    pub account: Money,
}

#[derive(Clone)]
pub struct Config {
    pub base_url: String,
    pub clients: usize,
    /// Stop after this long.
    pub duration: Duration,
    /// Or after this many settled visits in all (0: no limit).
    pub visits_max: u64,
    /// People drawn from the first `persons` demo persons.
    pub persons: usize,
    pub seed: u64,
    /// Sign requests with the demo institutions' x-tif credentials.
    pub sign: bool,
    /// Give up a request after retrying this long (the server may be restarting).
    pub retry_for: Duration,
}

/// Latencies of one request kind, in microseconds.
#[derive(Default)]
pub struct Latencies(Vec<u32>);

impl Latencies {
    pub fn record(&mut self, d: Duration) {
        self.0.push(d.as_micros().min(u128::from(u32::MAX)) as u32);
    }
    pub fn count(&self) -> usize {
        self.0.len()
    }
    /// The `p`-th percentile (0–100) in milliseconds.
    pub fn percentile_ms(&mut self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        self.0.sort_unstable();
        let rank = ((p / 100.0) * (self.0.len() - 1) as f64).round() as usize;
        f64::from(self.0[rank]) / 1000.0
    }
}

#[derive(Default)]
pub struct Report {
    pub settled: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Per transaction code.
    pub latencies: Vec<(&'static str, Latencies)>,
    /// Whole visits, 2201 to 2207.
    pub visit_latencies: Latencies,
    pub acknowledged: Vec<Acknowledged>,
    pub errors: Vec<String>,
    /// Requests sent more than once with the same `msgid` (after a transport failure or a
    /// retryable answer), and how many times they were sent again in all.
    pub retried: u64,
    pub resends: u64,
}

const X_TIF_PAASID: HeaderName = HeaderName::from_static("x-tif-paasid");
const X_TIF_TIMESTAMP: HeaderName = HeaderName::from_static("x-tif-timestamp");
const X_TIF_NONCE: HeaderName = HeaderName::from_static("x-tif-nonce");
const X_TIF_SIGNATURE: HeaderName = HeaderName::from_static("x-tif-signature");

/// Where requests go, split once from `Config::base_url` instead of parsing it per request.
struct Target {
    /// `host:port` to connect to.
    addr: String,
    /// The `Host` header hyper's pooled client would send: the authority, without a default port.
    host: HeaderValue,
    /// The origin-form request target (path and query), as that client sends it.
    path: Uri,
}

impl Target {
    fn parse(base_url: &str) -> Result<Target, String> {
        let uri: Uri = base_url.parse().map_err(|e| format!("bad url {base_url}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("bad url {base_url}: only http:// is supported"));
        }
        let authority = uri.authority().ok_or_else(|| format!("bad url {base_url}: no host"))?;
        let port = authority.port_u16().unwrap_or(80);
        let host = authority.host();
        let host_header = if port == 80 {
            host.to_owned()
        } else {
            format!("{host}:{port}")
        };
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        Ok(Target {
            addr: format!("{host}:{port}"),
            host: HeaderValue::from_str(&host_header).map_err(|e| e.to_string())?,
            path: path.parse().map_err(|e| format!("bad url {base_url}: {e}"))?,
        })
    }
}

/// One demo institution with what its requests repeat, rendered once.
struct Institution {
    demo: DemoInstitution,
    paas_id: HeaderValue,
    /// The envelope from `fixmedins_code` up to the `input` value.
    envelope_tail: String,
    /// Nonces used so far: each request is signed anew with the next one, since the platform
    /// accepts a nonce only once (a signature replayed is refused).
    nonces: AtomicU64,
}

#[derive(Clone)]
struct Signed {
    timestamp: HeaderValue,
    nonce: HeaderValue,
    signature: HeaderValue,
}

impl Institution {
    /// The x-tif headers of one request at `second`: a fresh nonce (the institution's index, the
    /// process and a counter, so that two generator runs against one server do not meet), and
    /// its signature.
    fn signed(&self, index: usize, second: i64) -> Signed {
        let n = self.nonces.fetch_add(1, Ordering::Relaxed);
        let ts = second.to_string();
        let nonce = format!("{index}-{}-{n}", std::process::id());
        let signature = yibao_server::sign(&ts, &self.demo.secret, &nonce);
        Signed {
            timestamp: HeaderValue::from_str(&ts).expect("digits"),
            nonce: HeaderValue::from_str(&nonce).expect("digits"),
            signature: HeaderValue::from_str(&signature).expect("hex"),
        }
    }
}

/// A billable item with its `med_list_codg`, `pric` and one unit's amount, rendered once.
struct Item {
    code: String,
    price: String,
    amount: Money,
    amount_text: String,
}

struct Shared {
    config: Config,
    target: Target,
    institutions: Vec<Institution>,
    items: Vec<Item>,
    settled: AtomicU64,
    retried: AtomicU64,
    resends: AtomicU64,
    stop: AtomicBool,
    /// Message serials per institution.
    serials: Vec<AtomicU64>,
}

/// Runs the clients and gathers what they saw.
pub async fn run(config: Config) -> Report {
    let target = match Target::parse(&config.base_url) {
        Ok(t) => t,
        Err(e) => {
            return Report {
                errors: vec![e],
                ..Report::default()
            }
        }
    };
    let items = demo_items()
        .into_iter()
        .filter(|d| !d.item.restriction.inpatient_only && d.price.millionths() > 0)
        .map(|d| {
            let amount = Money::from_price_quantity(d.price, Quantity::whole(1), Rounding::HalfUp);
            Item {
                code: d.item.code.to_string(),
                price: d.price.to_string(),
                amount,
                amount_text: amount.to_string(),
            }
        })
        .collect();
    let institutions: Vec<Institution> = demo_institutions()
        .into_iter()
        .filter(|i| i.code.starts_with('H'))
        .map(|demo| Institution {
            paas_id: HeaderValue::from_str(&demo.paas_id).expect("demo paas_id is ASCII"),
            envelope_tail: format!(
                r#"","fixmedins_code":"{}","fixmedins_name":"{}","sign_no":"","input":"#,
                demo.code, demo.name
            ),
            nonces: AtomicU64::new(0),
            demo,
        })
        .collect();
    // Start serials from the clock so that a rerun within the same second does not repeat ids.
    // Each run starts its serials at a different place (a hash of the clock), so that two runs
    // within the same second rarely reuse a msgid, which the platform would rightly replay.
    let serial_start =
        SplitMix64::new(chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default() as u64).below(10_000);
    let shared = Arc::new(Shared {
        serials: institutions.iter().map(|_| AtomicU64::new(serial_start)).collect(),
        institutions,
        items,
        config: config.clone(),
        target,
        settled: AtomicU64::new(0),
        retried: AtomicU64::new(0),
        resends: AtomicU64::new(0),
        stop: AtomicBool::new(false),
    });
    let report = Arc::new(Mutex::new(Report::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..config.clients {
        let shared = shared.clone();
        let report = report.clone();
        tasks.push(tokio::spawn(async move { client_loop(n, shared, report).await }));
    }
    let deadline = tokio::time::sleep(config.duration);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = &mut deadline => break,
            _ = tokio::time::sleep(Duration::from_millis(50)) => {
                if config.visits_max > 0 && shared.settled.load(Ordering::Relaxed) >= config.visits_max {
                    break;
                }
                if tasks.iter().all(|t| t.is_finished()) {
                    break;
                }
            }
        }
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let mut report = std::mem::take(&mut *report.lock().expect("report lock"));
    report.elapsed = started.elapsed();
    report.retried = shared.retried.load(Ordering::Relaxed);
    report.resends = shared.resends.load(Ordering::Relaxed);
    report
}

/// The wall clock as the messages print it, rendered once per second: formatting local time
/// per request was a visible share of the generator's CPU.
struct Clock {
    second: i64,
    /// `yyyyMMddHHmmss`, local time, for msgids.
    compact: String,
    /// `yyyy-MM-dd HH:mm:ss`, local time, for `inf_time`, `begntime` and the like.
    dashed: String,
}

impl Clock {
    fn new() -> Clock {
        Clock {
            second: i64::MIN,
            compact: String::new(),
            dashed: String::new(),
        }
    }

    /// Unix seconds now, refreshing the rendered texts when the second has changed.
    fn tick(&mut self) -> i64 {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let second = now.as_secs() as i64;
        if second != self.second {
            let local = chrono::DateTime::from_timestamp(second, 0)
                .unwrap_or_default()
                .with_timezone(&chrono::Local);
            self.compact.clear();
            let _ = write!(self.compact, "{}", local.format("%Y%m%d%H%M%S"));
            self.dashed.clear();
            let _ = write!(self.dashed, "{}", local.format("%Y-%m-%d %H:%M:%S"));
            self.second = second;
        }
        second
    }
}

type Connection = hyper::client::conn::http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// The client's keep-alive connection. The client task polls the connection itself while it
/// waits for an answer, which spares a spawned connection task and a pool checkout per request.
struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    connection: Pin<Box<Connection>>,
}

async fn connect(addr: &str) -> Result<Conn, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| format!("transport: {e}"))?;
    stream.set_nodelay(true).map_err(|e| format!("transport: {e}"))?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("transport: {e}"))?;
    Ok(Conn {
        sender,
        connection: Box::pin(connection),
    })
}

/// One simulated HIS client: its connection, clock and position in the run.
struct Client {
    shared: Arc<Shared>,
    conn: Option<Conn>,
    clock: Clock,
    /// The largest body so far: each body is allocated at its final size at once instead of
    /// growing (it becomes the request's `Bytes`, so it cannot be reused).
    body_capacity: usize,
}

impl Client {
    /// Sends one request and returns the answer's bytes, connecting first if need be.
    async fn exchange(&mut self, request: hyper::Request<Full<Bytes>>) -> Result<Bytes, String> {
        if let Some(conn) = &mut self.conn {
            // A connection the server closed while the client was idle (a restart) finishes
            // here without I/O; a fresh one is opened instead of failing the request on it.
            let closed = std::future::poll_fn(|cx| Poll::Ready(conn.connection.as_mut().poll(cx).is_ready())).await;
            if closed {
                self.conn = None;
            }
        }
        if self.conn.is_none() {
            self.conn = Some(connect(&self.shared.target.addr).await?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        let sender = &mut conn.sender;
        let answer = async move {
            sender.ready().await?;
            let response = sender.send_request(request).await?;
            // An answer usually arrives as one frame: take it as is, and copy only when it came
            // in pieces (what `collect` would do, without its queue of frames).
            let mut body = response.into_body();
            let mut whole = Bytes::new();
            let mut pieces: Option<BytesMut> = None;
            while let Some(frame) = body.frame().await {
                let Ok(data) = frame?.into_data() else { continue };
                if let Some(p) = &mut pieces {
                    p.extend_from_slice(&data);
                } else if whole.is_empty() {
                    whole = data;
                } else {
                    let mut p = BytesMut::with_capacity(whole.len() + data.len());
                    p.extend_from_slice(&whole);
                    p.extend_from_slice(&data);
                    pieces = Some(p);
                }
            }
            Ok::<_, hyper::Error>(pieces.map_or(whole, BytesMut::freeze))
        };
        let outcome = tokio::select! {
            biased;
            answer = answer => answer.map_err(|e| format!("transport: {e}")),
            ended = &mut conn.connection => Err(match ended {
                Ok(()) => "transport: connection closed".to_owned(),
                Err(e) => format!("transport: {e}"),
            }),
        };
        if outcome.is_err() {
            self.conn = None;
        }
        outcome
    }

    fn request(&self, institution_index: usize, body: &Bytes, second: i64) -> hyper::Request<Full<Bytes>> {
        let shared = &*self.shared;
        let mut request = hyper::Request::new(Full::new(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = shared.target.path.clone();
        let headers = request.headers_mut();
        headers.reserve(8);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if shared.config.sign {
            let institution = &shared.institutions[institution_index];
            let signed = institution.signed(institution_index, second);
            headers.insert(X_TIF_PAASID, institution.paas_id.clone());
            headers.insert(X_TIF_TIMESTAMP, signed.timestamp);
            headers.insert(X_TIF_NONCE, signed.nonce);
            headers.insert(X_TIF_SIGNATURE, signed.signature);
        }
        headers.insert(HOST, shared.target.host.clone());
        request
    }

    /// Sends a message until it is answered, resending it with the same `msgid` after a transport
    /// failure or an answer that asks to retry later. `body` is the message so far: the envelope
    /// head already written by [`Client::envelope`] and the `input` value after it; `call` closes it.
    async fn call<O: DeserializeOwned>(
        &mut self,
        infno: &str,
        institution_index: usize,
        mut body: String,
        msgid: &str,
    ) -> Result<Answer<O>, String> {
        body.push('}');
        self.body_capacity = self.body_capacity.max(body.len());
        let body = Bytes::from(body);
        let give_up = Instant::now() + self.shared.config.retry_for;
        let mut sends = 1u64;
        loop {
            let second = self.clock.tick();
            let request = self.request(institution_index, &body, second);
            let outcome = match self.exchange(request).await {
                Ok(bytes) => serde_json::from_slice::<Answer<O>>(&bytes).map_err(|e| format!("bad json: {e}")),
                Err(e) => Err(e),
            };
            match outcome {
                Ok(answer) => {
                    let transient = answer.infcode != Some(0)
                        && answer.err_msg.as_deref().is_some_and(|m| m.contains("请稍后重试"));
                    if !transient {
                        return Ok(answer);
                    }
                }
                Err(e) if !e.starts_with("transport") => return Err(e),
                Err(_) => {}
            }
            let shared = &*self.shared;
            if Instant::now() > give_up || shared.stop.load(Ordering::Relaxed) && shared.config.retry_for.is_zero() {
                return Err(format!("{infno}: gave up retrying msgid {msgid}"));
            }
            if sends == 1 {
                shared.retried.fetch_add(1, Ordering::Relaxed);
            }
            shared.resends.fetch_add(1, Ordering::Relaxed);
            sends += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A new message id: institution code + local `yyyyMMddHHmmss` + a 4-digit serial.
    fn msgid(&mut self, institution_index: usize) -> String {
        self.clock.tick();
        let shared = &*self.shared;
        // 12 + 14 + 4 = 30, the national layout. The 4-digit serial counts per institution, as a
        // HIS does: unique unless one institution sends 10,000 messages within one second.
        let serial = shared.serials[institution_index].fetch_add(1, Ordering::Relaxed) % 10_000;
        let code = &shared.institutions[institution_index].demo.code;
        let mut msgid = String::with_capacity(code.len() + 18);
        msgid.push_str(code);
        msgid.push_str(&self.clock.compact);
        let _ = write!(msgid, "{serial:04}");
        msgid
    }

    /// Starts a body with the envelope (标准入参) up to `"input":`; the caller appends the input
    /// and [`Client::call`] closes it. `inf_time` is the time the message is made, as before.
    fn envelope(&mut self, infno: &str, institution_index: usize, msgid: &str) -> String {
        self.clock.tick();
        let mut body = String::with_capacity(self.body_capacity.max(1024));
        body.push_str(r#"{"infno":""#);
        body.push_str(infno);
        body.push_str(r#"","msgid":""#);
        body.push_str(msgid);
        body.push_str(
            r#"","mdtrtarea_admvs":"500000","insuplc_admdvs":"500000","recer_sys_code":"YBXT","infver":"V1.0","opter_type":"1","opter":"001","opter_name":"收费员","inf_time":""#,
        );
        body.push_str(&self.clock.dashed);
        body.push_str(&self.shared.institutions[institution_index].envelope_tail);
        body
    }
}

/// An answer envelope, reading only what the client checks. The fields go through `Value` so that
/// they are judged exactly as before (`infcode` must be the integer 0, `err_msg` a string).
#[derive(Deserialize)]
#[serde(bound(deserialize = "O: Deserialize<'de>"))]
struct Answer<O> {
    #[serde(default, deserialize_with = "integer")]
    infcode: Option<i64>,
    #[serde(default, deserialize_with = "string")]
    err_msg: Option<String>,
    #[serde(default)]
    output: Option<O>,
}

fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Value::deserialize(d)?.as_i64())
}

fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

/// 2201's `output.data.mdtrt_id`.
#[derive(Deserialize)]
struct RegisterOutput {
    #[serde(default)]
    data: Option<RegisterData>,
}

#[derive(Deserialize)]
struct RegisterData {
    #[serde(default, deserialize_with = "string")]
    mdtrt_id: Option<String>,
}

/// 2207's `output.setlinfo`.
#[derive(Deserialize)]
struct SettleOutput {
    #[serde(default)]
    setlinfo: Option<Setlinfo>,
}

#[derive(Default, Deserialize)]
struct Setlinfo {
    #[serde(default, deserialize_with = "string")]
    setl_id: Option<String>,
    #[serde(default)]
    medfee_sumamt: Value,
    #[serde(default)]
    fund_pay_sumamt: Value,
    #[serde(default)]
    acct_pay: Value,
}

impl<O> Answer<O> {
    fn ok(self, infno: &str) -> Result<Option<O>, String> {
        if self.infcode == Some(0) {
            Ok(self.output)
        } else {
            Err(format!("{infno}: {}", self.err_msg.as_deref().unwrap_or("?")))
        }
    }
}

/// One 2204 fee line, numbered `n` (0–9), after the part of it shared by the visit's lines.
fn push_fee_line(body: &mut String, n: u8, shared_part: &str, item: &Item) {
    let digit = char::from(b'0' + n);
    body.push_str(r#"{"feedetl_sn":""#);
    body.push(digit);
    body.push_str(shared_part);
    body.push_str(&item.code);
    body.push_str(r#"","medins_list_codg":"L"#);
    body.push(digit);
    body.push_str(r#"","det_item_fee_sumamt":""#);
    body.push_str(&item.amount_text);
    body.push_str(r#"","cnt":"1","pric":""#);
    body.push_str(&item.price);
    body.push_str(
        r#"","bilg_dept_codg":"A01","bilg_dept_name":"内科","bilg_dr_codg":"D500101000001","bilg_dr_name":"李医生","hosp_appr_flag":"0"}"#,
    );
}

fn money(v: &Value) -> Money {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    };
    Money::parse_yuan(&text).unwrap_or(Money::ZERO)
}

async fn client_loop(client_no: usize, shared: Arc<Shared>, report: Arc<Mutex<Report>>) {
    let mut rng = SplitMix64::new(shared.config.seed ^ (client_no as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut client = Client {
        shared: shared.clone(),
        conn: None,
        clock: Clock::new(),
        body_capacity: 0,
    };
    while !shared.stop.load(Ordering::Relaxed) {
        let institution_index = rng.below(shared.institutions.len() as u64) as usize;
        let person = demo_person(rng.below(shared.config.persons.min(DEMO_PERSONS) as u64) as usize);
        let started = Instant::now();
        let mut timings: Vec<(&'static str, Duration)> = Vec::with_capacity(4);
        let outcome = one_visit(&mut client, institution_index, &person, &mut rng, &mut timings).await;
        let mut r = report.lock().expect("report lock");
        for (infno, d) in timings {
            match r.latencies.iter_mut().find(|(k, _)| *k == infno) {
                Some((_, l)) => l.record(d),
                None => {
                    let mut l = Latencies::default();
                    l.record(d);
                    r.latencies.push((infno, l));
                }
            }
        }
        match outcome {
            Ok(ack) => {
                r.visit_latencies.record(started.elapsed());
                r.settled += 1;
                r.acknowledged.push(ack);
                shared.settled.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                r.failed += 1;
                if r.errors.len() < 20 {
                    r.errors.push(e);
                }
            }
        }
    }
}

async fn one_visit(
    client: &mut Client,
    institution_index: usize,
    person: &yibao_demo::DemoPerson,
    rng: &mut SplitMix64,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<Acknowledged, String> {
    client.clock.tick();
    let now = client.clock.dashed.clone();
    let insutype = person.insurance.code();
    let psn_no = &person.person_no;
    let certno = &person.certno;
    let shared = client.shared.clone();

    let msgid = client.msgid(institution_index);
    let t = Instant::now();
    let mut body = client.envelope("2201", institution_index, &msgid);
    let _ = write!(
        body,
        r#"{{"data":{{"psn_no":"{psn_no}","insutype":"{insutype}","begntime":"{now}","mdtrt_cert_type":"02","mdtrt_cert_no":"{certno}","ipt_otp_no":"{msgid}","atddr_no":"D500101000001","dr_name":"李医生","dept_code":"A01","dept_name":"内科","caty":"A03"}}}}"#
    );
    let answer = client
        .call::<RegisterOutput>("2201", institution_index, body, &msgid)
        .await?;
    timings.push(("2201", t.elapsed()));
    let mdtrt_id = answer
        .ok("2201")?
        .and_then(|o| o.data)
        .and_then(|d| d.mdtrt_id)
        .ok_or("2201: no mdtrt_id")?;

    let msgid = client.msgid(institution_index);
    let t = Instant::now();
    let mut body = client.envelope("2203", institution_index, &msgid);
    let _ = write!(
        body,
        r#"{{"mdtrtinfo":{{"mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","med_type":"11","begntime":"{now}"}},"diseinfo":[{{"diag_type":"1","diag_srt_no":"1","diag_code":"J06.900","diag_name":"急性上呼吸道感染","diag_dept":"内科","dise_dor_no":"D500101000001","dise_dor_name":"李医生","diag_time":"{now}","vali_flag":"1"}}]}}"#
    );
    let answer = client
        .call::<IgnoredAny>("2203", institution_index, body, &msgid)
        .await?;
    timings.push(("2203", t.elapsed()));
    answer.ok("2203")?;

    let msgid = client.msgid(institution_index);
    let t = Instant::now();
    let mut body = client.envelope("2204", institution_index, &msgid);
    let mut total = Money::ZERO;
    // The ten lines differ only in their number and item, so the part they share is rendered
    // once per visit and the lines are pieced together without the formatting machinery.
    let shared_part = format!(
        r#"","mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","chrg_bchno":"B1","rx_circ_flag":"0","fee_ocur_time":"{now}","med_list_codg":""#
    );
    body.push_str(r#"{"feedetail":["#);
    for n in 0..10u8 {
        let item = &shared.items[rng.below(shared.items.len() as u64) as usize];
        total += item.amount;
        if n > 0 {
            body.push(',');
        }
        push_fee_line(&mut body, n, &shared_part, item);
    }
    body.push_str("]}");
    let answer = client
        .call::<IgnoredAny>("2204", institution_index, body, &msgid)
        .await?;
    timings.push(("2204", t.elapsed()));
    answer.ok("2204")?;

    let msgid = client.msgid(institution_index);
    let t = Instant::now();
    let mut body = client.envelope("2207", institution_index, &msgid);
    let _ = write!(
        body,
        r#"{{"data":{{"psn_no":"{psn_no}","mdtrt_cert_type":"02","mdtrt_cert_no":"{certno}","med_type":"11","medfee_sumamt":"{total}","psn_setlway":"01","mdtrt_id":"{mdtrt_id}","chrg_bchno":"B1","acct_used_flag":"1","insutype":"{insutype}"}}}}"#
    );
    let answer = client
        .call::<SettleOutput>("2207", institution_index, body, &msgid)
        .await?;
    timings.push(("2207", t.elapsed()));
    let s = answer.ok("2207")?.and_then(|o| o.setlinfo).unwrap_or_default();
    Ok(Acknowledged {
        setl_id: s.setl_id.unwrap_or_default(),
        msgid,
        institution: shared.institutions[institution_index].demo.code.clone(),
        insutype: insutype.to_owned(),
        person_no: psn_no.clone(),
        total: money(&s.medfee_sumamt),
        fund: money(&s.fund_pay_sumamt),
        account: money(&s.acct_pay),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_as_before() {
        let register: Answer<RegisterOutput> = serde_json::from_str(
            r#"{"infcode":0,"inf_refmsgid":"x","err_msg":"","output":{"data":{"mdtrt_id":"M1","n":[1,2]}},"warn_msg":null}"#,
        )
        .unwrap();
        assert_eq!(register.infcode, Some(0));
        let data = register.ok("2201").unwrap().unwrap().data.unwrap();
        assert_eq!(data.mdtrt_id.as_deref(), Some("M1"));

        let refused: Answer<IgnoredAny> =
            serde_json::from_str(r#"{"infcode":-1,"err_msg":"系统繁忙,请稍后重试","output":null}"#).unwrap();
        assert_eq!(refused.infcode, Some(-1));
        assert_eq!(refused.ok("2204").unwrap_err(), "2204: 系统繁忙,请稍后重试");

        // A non-integer infcode is not success, and a missing err_msg reads as "?".
        let odd: Answer<IgnoredAny> = serde_json::from_str(r#"{"infcode":"0"}"#).unwrap();
        assert_eq!(odd.ok("2203").unwrap_err(), "2203: ?");

        let settle: Answer<SettleOutput> = serde_json::from_str(
            r#"{"infcode":0,"err_msg":"","output":{"setlinfo":{"setl_id":"S1","medfee_sumamt":123.45,"fund_pay_sumamt":"100.00","acct_pay":0}}}"#,
        )
        .unwrap();
        let s = settle.ok("2207").unwrap().unwrap().setlinfo.unwrap();
        assert_eq!(s.setl_id.as_deref(), Some("S1"));
        assert_eq!(money(&s.medfee_sumamt), Money::parse_yuan("123.45").unwrap());
        assert_eq!(money(&s.fund_pay_sumamt), Money::parse_yuan("100").unwrap());
        assert_eq!(money(&s.acct_pay), Money::ZERO);

        assert!(serde_json::from_str::<Answer<IgnoredAny>>("not json").is_err());
    }

    #[test]
    fn the_target_is_split_as_hypers_client_sends_it() {
        let t = Target::parse("http://127.0.0.1:8080/fsi/api/rsfComIfsService/callService").unwrap();
        assert_eq!(t.addr, "127.0.0.1:8080");
        assert_eq!(t.host, "127.0.0.1:8080");
        assert_eq!(t.path, "/fsi/api/rsfComIfsService/callService");
        let t = Target::parse("http://localhost").unwrap();
        assert_eq!(
            (t.addr.as_str(), t.host.to_str().unwrap(), t.path.to_string().as_str()),
            ("localhost:80", "localhost", "/")
        );
        assert!(Target::parse("https://localhost/x").is_err());
    }

    #[test]
    fn fee_lines_are_the_template_they_replace() {
        let item = Item {
            code: "C1".into(),
            price: "12.5".into(),
            amount: Money::parse_yuan("12.50").unwrap(),
            amount_text: "12.50".into(),
        };
        let (mdtrt_id, psn_no, now, n) = ("M1", "P1", "2026-01-02 03:04:05", 7);
        let shared_part = format!(
            r#"","mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","chrg_bchno":"B1","rx_circ_flag":"0","fee_ocur_time":"{now}","med_list_codg":""#
        );
        let mut body = String::new();
        push_fee_line(&mut body, n, &shared_part, &item);
        let (code, amount, price) = (&item.code, &item.amount, &item.price);
        assert_eq!(
            body,
            format!(
                r#"{{"feedetl_sn":"{n}","mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","chrg_bchno":"B1","rx_circ_flag":"0","fee_ocur_time":"{now}","med_list_codg":"{code}","medins_list_codg":"L{n}","det_item_fee_sumamt":"{amount}","cnt":"1","pric":"{price}","bilg_dept_codg":"A01","bilg_dept_name":"内科","bilg_dr_codg":"D500101000001","bilg_dr_name":"李医生","hosp_appr_flag":"0"}}"#
            )
        );
        let _: Value = serde_json::from_str(&body).unwrap();
    }

    #[test]
    fn every_request_gets_its_own_nonce_and_signature() {
        let demo = demo_institutions().into_iter().next().unwrap();
        let institution = Institution {
            paas_id: HeaderValue::from_str(&demo.paas_id).unwrap(),
            envelope_tail: String::new(),
            nonces: AtomicU64::new(0),
            demo,
        };
        let a = institution.signed(3, 1_700_000_000);
        let b = institution.signed(3, 1_700_000_000);
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.signature, b.signature);
        assert_eq!(a.timestamp, "1700000000");
        let expected = yibao_server::sign("1700000000", &institution.demo.secret, a.nonce.to_str().unwrap());
        assert_eq!(a.signature, expected.as_str());
    }
}
