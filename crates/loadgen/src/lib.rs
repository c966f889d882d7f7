//! Simulated HIS clients. Each client runs visits one after another: register (2201), upload the
//! visit information (2203), upload ten fee lines (2204), settle (2207). A request that fails in
//! transport (the server is down or restarting) is retried with the same `msgid`, as real HIS
//! clients do, so the platform's replay guarantees that every visit settles exactly once.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
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

struct Shared {
    config: Config,
    client: Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>,
    institutions: Vec<DemoInstitution>,
    items: Vec<(String, String, Money)>,
    settled: AtomicU64,
    retried: AtomicU64,
    resends: AtomicU64,
    stop: AtomicBool,
    /// Message serials per institution.
    serials: Vec<AtomicU64>,
}

/// Runs the clients and gathers what they saw.
pub async fn run(config: Config) -> Report {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(config.clients)
        .build(connector);
    let items = demo_items()
        .into_iter()
        .filter(|d| !d.item.restriction.inpatient_only && d.price.millionths() > 0)
        .map(|d| {
            let amount = Money::from_price_quantity(d.price, Quantity::whole(1), Rounding::HalfUp);
            (d.item.code.to_string(), d.price.to_string(), amount)
        })
        .collect();
    let institutions: Vec<DemoInstitution> = demo_institutions()
        .into_iter()
        .filter(|i| i.code.starts_with('H'))
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
        client,
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

struct Visit<'a> {
    shared: &'a Shared,
    institution: &'a DemoInstitution,
    institution_index: usize,
    seq: u64,
    client_no: usize,
}

impl Visit<'_> {
    fn msgid(&mut self) -> String {
        self.seq += 1;
        let now = chrono::Local::now().format("%Y%m%d%H%M%S");
        // 12 + 14 + 4 = 30, the national layout. The 4-digit serial counts per institution, as a
        // HIS does: unique unless one institution sends 10,000 messages within one second.
        let serial = self.shared.serials[self.institution_index].fetch_add(1, Ordering::Relaxed) % 10_000;
        format!("{}{now}{serial:04}", self.institution.code)
    }

    async fn call(&mut self, infno: &str, input: String, msgid: &str) -> Result<Value, String> {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
        let body = format!(
            r#"{{"infno":"{infno}","msgid":"{msgid}","mdtrtarea_admvs":"500000","insuplc_admdvs":"500000","recer_sys_code":"YBXT","infver":"V1.0","opter_type":"1","opter":"001","opter_name":"收费员","inf_time":"{now}","fixmedins_code":"{}","fixmedins_name":"{}","sign_no":"","input":{input}}}"#,
            self.institution.code, self.institution.name
        );
        let give_up = Instant::now() + self.shared.config.retry_for;
        let mut sends = 1u64;
        loop {
            let mut request =
                hyper::Request::post(&self.shared.config.base_url).header("content-type", "application/json");
            if self.shared.config.sign {
                let ts = chrono::Utc::now().timestamp().to_string();
                let nonce = format!("{}-{}", self.client_no, self.seq);
                let signature = yibao_server::sign(&ts, &self.institution.secret, &nonce);
                request = request
                    .header("x-tif-paasid", &self.institution.paas_id)
                    .header("x-tif-timestamp", ts)
                    .header("x-tif-nonce", nonce)
                    .header("x-tif-signature", signature);
            }
            let request = request
                .body(Full::new(Bytes::from(body.clone())))
                .map_err(|e| e.to_string())?;
            let outcome = match self.shared.client.request(request).await {
                Ok(response) => match response.into_body().collect().await {
                    Ok(b) => serde_json::from_slice::<Value>(&b.to_bytes()).map_err(|e| format!("bad json: {e}")),
                    Err(e) => Err(format!("transport: {e}")),
                },
                Err(e) => Err(format!("transport: {e}")),
            };
            match outcome {
                Ok(v) => {
                    let transient = v["infcode"].as_i64() != Some(0)
                        && v["err_msg"].as_str().is_some_and(|m| m.contains("请稍后重试"));
                    if !transient {
                        return Ok(v);
                    }
                }
                Err(e) if !e.starts_with("transport") => return Err(e),
                Err(_) => {}
            }
            if Instant::now() > give_up
                || self.shared.stop.load(Ordering::Relaxed) && self.shared.config.retry_for.is_zero()
            {
                return Err(format!("{infno}: gave up retrying msgid {msgid}"));
            }
            if sends == 1 {
                self.shared.retried.fetch_add(1, Ordering::Relaxed);
            }
            self.shared.resends.fetch_add(1, Ordering::Relaxed);
            sends += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn ok(v: &Value, infno: &str) -> Result<(), String> {
    if v["infcode"].as_i64() == Some(0) {
        Ok(())
    } else {
        Err(format!("{infno}: {}", v["err_msg"].as_str().unwrap_or("?")))
    }
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
    let mut seq = 0u64;
    while !shared.stop.load(Ordering::Relaxed) {
        let institution_index = rng.below(shared.institutions.len() as u64) as usize;
        let institution = &shared.institutions[institution_index];
        let person = demo_person(rng.below(shared.config.persons.min(DEMO_PERSONS) as u64) as usize);
        let mut visit = Visit {
            shared: &shared,
            institution,
            institution_index,
            seq,
            client_no,
        };
        let started = Instant::now();
        let mut timings: Vec<(&'static str, Duration)> = Vec::with_capacity(4);
        let outcome = one_visit(&mut visit, &person, &mut rng, &mut timings).await;
        seq = visit.seq;
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
    visit: &mut Visit<'_>,
    person: &yibao_demo::DemoPerson,
    rng: &mut SplitMix64,
    timings: &mut Vec<(&'static str, Duration)>,
) -> Result<Acknowledged, String> {
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
    let insutype = person.insurance.code();
    let psn_no = &person.person_no;
    let certno = &person.certno;

    let msgid = visit.msgid();
    let t = Instant::now();
    let input = format!(
        r#"{{"data":{{"psn_no":"{psn_no}","insutype":"{insutype}","begntime":"{now}","mdtrt_cert_type":"02","mdtrt_cert_no":"{certno}","ipt_otp_no":"{msgid}","atddr_no":"D500101000001","dr_name":"李医生","dept_code":"A01","dept_name":"内科","caty":"A03"}}}}"#
    );
    let v = visit.call("2201", input, &msgid).await?;
    timings.push(("2201", t.elapsed()));
    ok(&v, "2201")?;
    let mdtrt_id = v["output"]["data"]["mdtrt_id"]
        .as_str()
        .ok_or("2201: no mdtrt_id")?
        .to_owned();

    let msgid = visit.msgid();
    let t = Instant::now();
    let input = format!(
        r#"{{"mdtrtinfo":{{"mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","med_type":"11","begntime":"{now}"}},"diseinfo":[{{"diag_type":"1","diag_srt_no":"1","diag_code":"J06.900","diag_name":"急性上呼吸道感染","diag_dept":"内科","dise_dor_no":"D500101000001","dise_dor_name":"李医生","diag_time":"{now}","vali_flag":"1"}}]}}"#
    );
    let v = visit.call("2203", input, &msgid).await?;
    timings.push(("2203", t.elapsed()));
    ok(&v, "2203")?;

    let mut lines = Vec::with_capacity(10);
    let mut total = Money::ZERO;
    for n in 0..10 {
        let (code, price, amount) = &visit.shared.items[rng.below(visit.shared.items.len() as u64) as usize];
        total += *amount;
        lines.push(format!(
            r#"{{"feedetl_sn":"{n}","mdtrt_id":"{mdtrt_id}","psn_no":"{psn_no}","chrg_bchno":"B1","rx_circ_flag":"0","fee_ocur_time":"{now}","med_list_codg":"{code}","medins_list_codg":"L{n}","det_item_fee_sumamt":"{amount}","cnt":"1","pric":"{price}","bilg_dept_codg":"A01","bilg_dept_name":"内科","bilg_dr_codg":"D500101000001","bilg_dr_name":"李医生","hosp_appr_flag":"0"}}"#
        ));
    }
    let msgid = visit.msgid();
    let t = Instant::now();
    let v = visit
        .call("2204", format!(r#"{{"feedetail":[{}]}}"#, lines.join(",")), &msgid)
        .await?;
    timings.push(("2204", t.elapsed()));
    ok(&v, "2204")?;

    let msgid = visit.msgid();
    let t = Instant::now();
    let input = format!(
        r#"{{"data":{{"psn_no":"{psn_no}","mdtrt_cert_type":"02","mdtrt_cert_no":"{certno}","med_type":"11","medfee_sumamt":"{total}","psn_setlway":"01","mdtrt_id":"{mdtrt_id}","chrg_bchno":"B1","acct_used_flag":"1","insutype":"{insutype}"}}}}"#
    );
    let v = visit.call("2207", input, &msgid).await?;
    timings.push(("2207", t.elapsed()));
    ok(&v, "2207")?;
    let s = &v["output"]["setlinfo"];
    Ok(Acknowledged {
        setl_id: s["setl_id"].as_str().unwrap_or_default().to_owned(),
        msgid,
        institution: visit.institution.code.clone(),
        insutype: insutype.to_owned(),
        person_no: psn_no.clone(),
        total: money(&s["medfee_sumamt"]),
        fund: money(&s["fund_pay_sumamt"]),
        account: money(&s["acct_pay"]),
    })
}
