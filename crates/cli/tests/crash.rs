//! Crash test: the server is killed with SIGKILL at random moments under load and restarted on
//! the same database. The simulated HIS clients retry every request with the same `msgid` until
//! it is answered, so every visit they finish is acknowledged. Afterwards the database must hold
//! exactly the acknowledged settlements, each written whole, with accumulators, account balances
//! and fund ledgers that agree with them, and 3201 must reconcile with the clients' own totals.
//!
//! The kill schedule comes from a seeded generator (`YIBAO_CRASH_SEED`, printed), so a failing
//! schedule can be replayed; the moments the kills land in the server's work still vary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::Value;
use yibao_demo::{demo_institutions, demo_person, SplitMix64};
use yibao_money::Money;
use yibao_settle::{Accumulator, Deltas, YearToDate};
use yibao_store::{SettlementFilter, SettlementRecord, SettlementStatus, Store, VisitStatus};

const PERSONS: usize = 3000;
const CLIENTS: usize = 32;
/// How long the clients start new visits.
const LOAD: Duration = Duration::from_secs(22);
/// No kill later than this before the end of the load, so that the last restart serves the
/// visits in progress to their end.
const QUIET_END: Duration = Duration::from_secs(4);
const KILLS_MIN: u64 = 4;
const KILLS_MAX: u64 = 6;
const DEFAULT_SEED: u64 = 0x5EED_C8A5_4001;
const NATIONAL_PATH: &str = "/fsi/api/rsfComIfsService/callService";
/// The personal-account book (310200) that account payments post to.
const ACCOUNT_BOOK: &str = "310200";

/// The running server, killed when the test ends however it ends.
#[derive(Clone)]
struct Server {
    child: Arc<Mutex<Option<Child>>>,
    addr: SocketAddr,
    db_url: String,
    log: PathBuf,
}

impl Server {
    fn start(&self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("server log opens");
        let child = Command::new(env!("CARGO_BIN_EXE_yibao"))
            .args(["serve", "--demo", "--demo-persons", &PERSONS.to_string(), "--no-auth"])
            .args(["--database", &self.db_url, "--listen", &self.addr.to_string()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("the yibao binary starts");
        let previous = self.child.lock().unwrap().replace(child);
        assert!(previous.is_none(), "a server was already running");
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(body) = http(self.addr, "GET", "/health", "") {
                if body.contains(r#""status":"ok""#) {
                    return;
                }
            }
            if let Some(status) = self.child.lock().unwrap().as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!(
                    "the server exited with {status} while starting; log:\n{}",
                    tail(&self.log)
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server did not answer /health within 30 s; log:\n{}",
                tail(&self.log)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix): no shutdown code runs.
    fn kill(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("the server had already exited with {status}; log:\n{}", tail(&self.log));
            }
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if Arc::strong_count(&self.child) == 1 {
            if let Ok(mut slot) = self.child.lock() {
                if let Some(mut child) = slot.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
    }
}

fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// One HTTP/1.1 exchange on a fresh connection; the response body.
fn http(addr: SocketAddr, method: &str, path: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP header in {response:?}")))?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(std::io::Error::other(format!("HTTP status: {head}")));
    }
    Ok(body.to_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn random_ms(rng: &mut SplitMix64, from: u64, to: u64) -> Duration {
    Duration::from_millis(from + rng.below(to - from + 1))
}

/// What the clients saw, summed per (institution, insutype).
#[derive(Default, Clone, Copy)]
struct Totals {
    count: i64,
    total: Money,
    fund: Money,
    account: Money,
}

#[test]
fn acknowledged_settlements_survive_sigkill() {
    let started = Instant::now();
    let seed = std::env::var("YIBAO_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("crash-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("yibao.db");
    let server = Server {
        child: Arc::new(Mutex::new(None)),
        addr: SocketAddr::from(([127, 0, 0, 1], free_port())),
        db_url: format!("sqlite://{}", db.display()),
        log: dir.join("server.log"),
    };
    println!("crash test: seed {seed}, database {}", db.display());
    let first_day = chrono::Local::now().date_naive();
    server.start();

    // The killer: after the server has run under load for a random while, SIGKILL it, wait a
    // random pause, restart it on the same port and file, and wait until it answers.
    let load_until = Instant::now() + LOAD;
    let killer = {
        let server = server.clone();
        std::thread::spawn(move || {
            let mut rng = SplitMix64::new(seed);
            let planned = KILLS_MIN + rng.below(KILLS_MAX - KILLS_MIN + 1);
            let mut downtime = Duration::ZERO;
            let mut kills = 0;
            while kills < planned {
                let uptime = random_ms(&mut rng, 600, 2800);
                let pause = random_ms(&mut rng, 20, 700);
                let at = Instant::now() + uptime;
                if at + QUIET_END > load_until {
                    break;
                }
                std::thread::sleep(uptime);
                let down = Instant::now();
                server.kill();
                kills += 1;
                std::thread::sleep(pause);
                server.start();
                downtime += down.elapsed();
            }
            (kills, downtime)
        })
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let report = runtime.block_on(yibao_loadgen::run(yibao_loadgen::Config {
        base_url: format!("http://{}{NATIONAL_PATH}", server.addr),
        clients: CLIENTS,
        duration: LOAD,
        visits_max: 0,
        persons: PERSONS,
        seed,
        sign: false,
        retry_for: Duration::from_secs(30),
    }));
    let (kills, downtime) = killer.join().expect("the killer thread");
    let acknowledged = report.acknowledged;
    println!(
        "crash test: {kills} kills ({:.1} s down), {} settlements acknowledged, {} requests retried \
         ({} resends), {} visits failed, load {:.1} s",
        downtime.as_secs_f64(),
        acknowledged.len(),
        report.retried,
        report.resends,
        report.failed,
        report.elapsed.as_secs_f64()
    );
    assert!(
        kills >= KILLS_MIN,
        "only {kills} kills happened (schedule of seed {seed})"
    );
    assert!(
        !acknowledged.is_empty(),
        "no settlement was acknowledged; log:\n{}",
        tail(&server.log)
    );
    assert!(report.retried > 0, "no request was retried: the kills hit no traffic");

    // Stop the server the same way, and read what it left.
    server.kill();
    let last_day = chrono::Local::now().date_naive();
    let mut store = yibao_store::open(&server.db_url).expect("the database opens");
    let conn = rusqlite::Connection::open(&db).expect("the database opens for direct queries");
    let stored = all_settlements(store.as_mut(), first_day, last_day);
    let rows: i64 = conn
        .query_row("SELECT COUNT(*) FROM settlements", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        rows,
        stored.len() as i64,
        "settlements outside the demo institutions or the test's dates"
    );
    let by_id: HashMap<&str, &SettlementRecord> = stored.iter().map(|s| (s.settlement_id.as_str(), s)).collect();
    assert_eq!(by_id.len(), stored.len(), "a settlement id is listed twice");

    // 1. Every acknowledged settlement is stored, in force, with the amounts the client saw.
    let mut seen = HashSet::new();
    for ack in &acknowledged {
        assert!(
            seen.insert(ack.setl_id.as_str()),
            "setl_id {} acknowledged twice",
            ack.setl_id
        );
        let s = by_id.get(ack.setl_id.as_str()).unwrap_or_else(|| {
            panic!(
                "acknowledged settlement {} (msgid {}, person {}) is not stored",
                ack.setl_id, ack.msgid, ack.person_no
            )
        });
        assert_eq!(
            s.status,
            SettlementStatus::Settled,
            "acknowledged settlement {} is not in force",
            ack.setl_id
        );
        assert_eq!(
            (s.total, s.fund_total, s.account_pay),
            (ack.total, ack.fund, ack.account),
            "settlement {}: stored total/fund/account differ from what the client was answered",
            ack.setl_id
        );
        assert_eq!(
            s.msgid, ack.msgid,
            "settlement {}: stored msgid differs from the request's",
            ack.setl_id
        );
        assert_eq!(s.person_no, ack.person_no, "settlement {}: person differs", ack.setl_id);
        assert_eq!(
            s.institution, ack.institution,
            "settlement {}: institution differs",
            ack.setl_id
        );
    }

    // 2. No settlement is half-written.
    let ledger = ledger_by_settlement(&conn);
    for s in &stored {
        let id = &s.settlement_id;
        let output: Value = serde_json::from_str(&s.output_json)
            .unwrap_or_else(|e| panic!("settlement {id}: stored output is not JSON: {e}"));
        let mut expected: BTreeMap<String, Money> = BTreeMap::new();
        for row in output["setldetail"].as_array().into_iter().flatten() {
            let book = row["fund_pay_type"].as_str().unwrap_or_default().to_owned();
            *expected.entry(book).or_default() += money(&row["fund_payamt"]);
        }
        assert_eq!(
            expected.values().copied().sum::<Money>(),
            s.fund_total,
            "settlement {id}: setldetail rows do not add up to fund_pay_sumamt"
        );
        if !s.account_pay.is_zero() {
            *expected.entry(ACCOUNT_BOOK.to_owned()).or_default() += s.account_pay;
        }
        expected.retain(|_, amount| !amount.is_zero());
        let entries = ledger.get(id.as_str()).map(Vec::as_slice).unwrap_or_default();
        let mut posted: BTreeMap<String, (Money, Money)> = BTreeMap::new();
        for e in entries.iter().filter(|e| e.posting_id == *id) {
            let (debit, credit) = posted.entry(e.book.clone()).or_default();
            *debit += e.debit;
            *credit += e.credit;
        }
        let posted_amounts: BTreeMap<String, Money> = posted
            .iter()
            .map(|(book, (debit, credit))| {
                assert_eq!(
                    debit, credit,
                    "settlement {id}: its posting does not balance in book {book}"
                );
                (book.clone(), *debit)
            })
            .collect();
        assert_eq!(
            posted_amounts, expected,
            "settlement {id}: ledger postings per book differ from its fund amounts (+ account pay in {ACCOUNT_BOOK})"
        );
        let reversals = entries.iter().filter(|e| e.posting_id != *id).count();
        match s.status {
            SettlementStatus::Settled => {
                assert_eq!(reversals, 0, "settlement {id} is in force but has reversal postings")
            }
            SettlementStatus::Cancelled => assert!(
                reversals > 0 || expected.is_empty(),
                "settlement {id} is cancelled but has no reversal postings"
            ),
        }

        let lines = store.fee_lines(&s.visit_id).unwrap();
        let covered: Vec<_> = lines
            .iter()
            .filter(|l| l.settlement_id.as_deref() == Some(id.as_str()))
            .collect();
        if s.status == SettlementStatus::Settled {
            assert!(!covered.is_empty(), "settlement {id}: no fee line is marked with it");
            assert_eq!(
                covered.iter().map(|l| l.amount).sum::<Money>(),
                s.total,
                "settlement {id}: the lines marked with it do not add up to its total"
            );
            assert!(
                lines.iter().all(|l| l.settlement_id.is_some()),
                "settlement {id}: visit {} still has unsettled lines",
                s.visit_id
            );
            let visit = store
                .visit(&s.visit_id)
                .unwrap()
                .unwrap_or_else(|| panic!("settlement {id}: visit missing"));
            assert_eq!(
                visit.status,
                VisitStatus::Settled,
                "settlement {id}: visit {} is not settled",
                s.visit_id
            );
        }
        let message = store
            .message(&s.msgid)
            .unwrap()
            .unwrap_or_else(|| panic!("settlement {id}: no stored answer for its msgid {}", s.msgid));
        assert!(
            message.response_json.contains(id.as_str()),
            "settlement {id}: the stored answer to msgid {} names another settlement",
            s.msgid
        );
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM ledger_entries WHERE settlement_id NOT IN (SELECT settlement_id FROM settlements)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0, "ledger entries without their settlement");
    let settled_visits: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM visits v WHERE v.status = 'settled' AND NOT EXISTS \
             (SELECT 1 FROM settlements s WHERE s.visit_id = v.visit_id AND s.status = 'settled')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(settled_visits, 0, "visits marked settled without a settlement in force");
    let answered_2207: Vec<String> = {
        let mut stmt = conn.prepare("SELECT msgid FROM messages WHERE infno = '2207'").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    for msgid in &answered_2207 {
        let message = store.message(msgid).unwrap().expect("a listed message");
        let response: Value = serde_json::from_str(&message.response_json).unwrap();
        if let Some(setl_id) = response["output"]["setlinfo"]["setl_id"].as_str() {
            let s = store.settlement_by_msgid(msgid).unwrap();
            assert_eq!(
                s.as_ref().map(|s| s.settlement_id.as_str()),
                Some(setl_id),
                "the stored answer to 2207 msgid {msgid} names settlement {setl_id}, which is not stored under it"
            );
        }
    }

    // Retried requests the first server had already committed, answered from the stored answer.
    let replayed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM audit_log WHERE message = '重复报文,返回原应答'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    println!("crash test: {replayed} retried requests were answered by replaying a committed answer");

    // 3. Accumulators and account balances are what the stored settlements imply.
    let mut implied: BTreeMap<(String, i32), YearToDate> = BTreeMap::new();
    let mut account_paid: HashMap<String, Money> = HashMap::new();
    for s in stored.iter().filter(|s| s.status == SettlementStatus::Settled) {
        let deltas: Deltas = serde_json::from_str(&s.deltas_json)
            .unwrap_or_else(|e| panic!("settlement {}: deltas are not readable: {e}", s.settlement_id));
        assert_eq!(
            deltas.account_pay, s.account_pay,
            "settlement {}: deltas disagree on account pay",
            s.settlement_id
        );
        assert_eq!(
            deltas.year, s.year,
            "settlement {}: deltas of another year",
            s.settlement_id
        );
        implied
            .entry((s.person_no.clone(), s.year))
            .or_insert_with(|| YearToDate::new(s.year))
            .apply(&deltas);
        *account_paid.entry(s.person_no.clone()).or_default() += s.account_pay;
    }
    for ((person_no, year), ytd) in &implied {
        let stored_ytd: BTreeMap<String, Accumulator> =
            store.accumulators(person_no, *year).unwrap().into_iter().collect();
        let implied_ytd: BTreeMap<String, Accumulator> = ytd.accumulators.iter().cloned().collect();
        assert_eq!(
            stored_ytd, implied_ytd,
            "person {person_no}, year {year}: stored accumulators differ from the sum of the stored settlements' deltas"
        );
    }
    let accumulated: Vec<(String, i32)> = {
        let mut stmt = conn
            .prepare("SELECT DISTINCT person_no, year FROM accumulators")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    for key in &accumulated {
        assert!(
            implied.contains_key(key),
            "person {}, year {}: accumulators stored without a settlement in force",
            key.0,
            key.1
        );
    }
    for index in 0..PERSONS {
        let demo = demo_person(index);
        assert_eq!(
            demo.person_no,
            format!("500000P{:012}", index + 1),
            "demo person numbering"
        );
        let person = store
            .person(&demo.person_no)
            .unwrap()
            .unwrap_or_else(|| panic!("demo person {} is not stored", demo.person_no));
        let paid = account_paid.get(&demo.person_no).copied().unwrap_or_default();
        assert_eq!(
            person.account_balance,
            demo.account_balance - paid,
            "person {}: account balance {} is not the initial {} less {} paid by stored settlements",
            demo.person_no,
            person.account_balance,
            demo.account_balance,
            paid
        );
    }

    // 4. Every fund's book balances.
    let books = store.ledger_balances().unwrap();
    assert!(!books.is_empty(), "no ledger entries at all");
    for (book, debit, credit) in &books {
        assert_eq!(debit, credit, "book {book}: debits {debit} ≠ credits {credit}");
    }
    drop(store);
    drop(conn);

    // 5. The database holds exactly the acknowledged settlements, and 3201 agrees with the
    //    clients' own totals.
    // A visit that failed may have settled unacknowledged, so this needs every visit finished.
    assert_eq!(
        report.failed, 0,
        "visits failed although every request is retried until answered: {:?}",
        report.errors
    );
    let in_force: HashSet<&str> = stored
        .iter()
        .filter(|s| s.status == SettlementStatus::Settled)
        .map(|s| s.settlement_id.as_str())
        .collect();
    let unacknowledged: Vec<_> = stored
        .iter()
        .filter(|s| !seen.contains(s.settlement_id.as_str()))
        .map(|s| format!("{} (msgid {}, visit {})", s.settlement_id, s.msgid, s.visit_id))
        .collect();
    assert!(
        unacknowledged.is_empty(),
        "{} stored settlements no client was acknowledged (a duplicate from a retried msgid?): {:?}",
        unacknowledged.len(),
        &unacknowledged[..unacknowledged.len().min(10)]
    );
    assert_eq!(
        in_force.len(),
        acknowledged.len(),
        "settlements in force in the database vs acknowledged to the clients"
    );
    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for i in demo_institutions().into_iter().filter(|i| i.code.starts_with('H')) {
        for insutype in ["310", "390"] {
            totals.insert((i.code.clone(), insutype.to_owned()), Totals::default());
        }
    }
    for ack in &acknowledged {
        let t = totals
            .entry((ack.institution.clone(), ack.insutype.clone()))
            .or_default();
        t.count += 1;
        t.total += ack.total;
        t.fund += ack.fund;
        t.account += ack.account;
    }
    server.start();
    for (n, ((institution, insutype), t)) in totals.iter().enumerate() {
        let body = reconcile_request(institution, insutype, first_day, last_day, t, n);
        let answer = http(server.addr, "POST", NATIONAL_PATH, &body).expect("3201 is answered");
        let answer: Value = serde_json::from_str(&answer).expect("3201 answers JSON");
        assert_eq!(
            answer["infcode"], 0,
            "3201 for {institution}/{insutype} failed: {answer}"
        );
        let info = &answer["output"]["stmtinfo"];
        assert_eq!(
            info["stmt_rslt"], "0",
            "3201 for {institution}/{insutype} (clients saw {} settlements, total {}, fund {}, account {}): {}",
            t.count, t.total, t.fund, t.account, info["stmt_rslt_dscr"]
        );
    }
    server.kill();
    println!(
        "crash test: checked {} stored settlements, {} 3201 reconciliations; {:.1} s in all",
        stored.len(),
        totals.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every settlement of every demo institution settled between the dates, cancelled ones too.
fn all_settlements(store: &mut dyn Store, from: NaiveDate, to: NaiveDate) -> Vec<SettlementRecord> {
    let mut all = Vec::new();
    for institution in demo_institutions() {
        let filter = SettlementFilter {
            institution: institution.code,
            insurance: None,
            clearing_type: None,
            from,
            to,
            in_force_only: false,
        };
        all.extend(store.settlements(&filter, i64::MAX).unwrap());
    }
    all
}

struct Entry {
    posting_id: String,
    book: String,
    debit: Money,
    credit: Money,
}

fn ledger_by_settlement(conn: &rusqlite::Connection) -> HashMap<String, Vec<Entry>> {
    let mut stmt = conn
        .prepare("SELECT settlement_id, posting_id, book, debit, credit FROM ledger_entries")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Entry {
                    posting_id: r.get(1)?,
                    book: r.get(2)?,
                    debit: Money::from_fen(r.get(3)?),
                    credit: Money::from_fen(r.get(4)?),
                },
            ))
        })
        .unwrap();
    let mut out: HashMap<String, Vec<Entry>> = HashMap::new();
    for row in rows {
        let (settlement_id, entry) = row.unwrap();
        out.entry(settlement_id).or_default().push(entry);
    }
    out
}

fn money(v: &Value) -> Money {
    let text = match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => panic!("not an amount: {v}"),
    };
    Money::parse_yuan(&text).unwrap_or_else(|e| panic!("not an amount: {text}: {e}"))
}

fn reconcile_request(
    institution: &str,
    insutype: &str,
    from: NaiveDate,
    to: NaiveDate,
    t: &Totals,
    n: usize,
) -> String {
    let now = chrono::Local::now();
    let msgid = format!("{institution}{}{:04}", now.format("%Y%m%d%H%M%S"), n % 10_000);
    serde_json::json!({
        "infno": "3201",
        "msgid": msgid,
        "mdtrtarea_admvs": "500000",
        "insuplc_admdvs": "500000",
        "recer_sys_code": "YBXT",
        "infver": "V1.0",
        "opter_type": "1",
        "opter": "001",
        "opter_name": "收费员",
        "inf_time": now.format("%Y-%m-%d %H:%M:%S").to_string(),
        "fixmedins_code": institution,
        "fixmedins_name": institution,
        "sign_no": "",
        "input": { "data": {
            "insutype": insutype,
            "clr_type": "11",
            "setl_optins": "500000",
            "stmt_begndate": from.format("%Y-%m-%d").to_string(),
            "stmt_enddate": to.format("%Y-%m-%d").to_string(),
            "medfee_sumamt": t.total.to_string(),
            "fund_pay_sumamt": t.fund.to_string(),
            "acct_pay": t.account.to_string(),
            "fixmedins_setl_cnt": t.count.to_string(),
        }},
    })
    .to_string()
}
