//! The harness the end-to-end tests share: fresh databases (a SQLite file or a PostgreSQL
//! schema, removed when dropped), `yibao serve` on a free port (killed when dropped, its log
//! printed when a test fails), and a small HTTP/1.1 client.

// Each test file uses a different part of the harness.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(30);
/// Times a server is started on a new port when the one picked was taken meanwhile.
pub const START_ATTEMPTS: usize = 5;

pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

pub fn with_param(url: &str, param: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{param}")
}

/// A fresh database, removed when dropped.
pub enum TestDb {
    Sqlite {
        path: PathBuf,
        url: String,
    },
    Postgres {
        base_url: String,
        schema: String,
        url: String,
    },
}

impl TestDb {
    pub fn sqlite(prefix: &str) -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.db", unique(prefix)));
        let url = format!("sqlite://{}", path.display());
        TestDb::Sqlite { path, url }
    }

    pub fn postgres(prefix: &str) -> TestDb {
        let base_url = std::env::var("YIBAO_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_owned());
        if let Err(e) = ::postgres::Client::connect(&with_param(&base_url, "connect_timeout=10"), ::postgres::NoTls) {
            panic!("PostgreSQL at {base_url} cannot be reached ({e}); start one or set YIBAO_TEST_POSTGRES_URL");
        }
        let schema = unique(prefix);
        let url = with_param(&base_url, &format!("schema={schema}"));
        TestDb::Postgres { base_url, schema, url }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { path, .. } => {
                for suffix in ["", "-wal", "-shm", "-journal", "-writer.lock", ".keys"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            TestDb::Postgres { base_url, schema, url } => {
                let _ = std::fs::remove_file(key_file_for(url));
                match ::postgres::Client::connect(&with_param(base_url, "connect_timeout=10"), ::postgres::NoTls) {
                    Ok(mut client) => {
                        if let Err(e) = client.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE")) {
                            eprintln!("could not drop test schema {schema}: {e}");
                        }
                    }
                    Err(e) => eprintln!("could not drop test schema {schema}: {e}"),
                }
            }
        }
    }
}

/// A running `yibao serve`, killed when dropped (also when the test panics, when its log is
/// printed to help find out why).
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub log: Arc<Mutex<Vec<String>>>,
}

/// The key file a test server on `database` seals institution secrets with: one per database,
/// so that a restart on the same database opens what the first start sealed.
pub fn key_file_for(database: &str) -> PathBuf {
    let name: String = database
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    std::env::temp_dir().join(format!("yibao-test-{}.keys", &name[name.len().saturating_sub(80)..]))
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

impl Server {
    /// Starts `yibao serve --demo` with `demo_persons` people, `args` added, and the admin token
    /// in `YIBAO_ADMIN_TOKEN` (or none), on a free port; waits until it answers.
    pub fn start_with(database: &str, demo_persons: usize, args: &[String], admin_token: Option<&str>) -> Server {
        Server::start_with_env(database, demo_persons, args, admin_token, &[])
    }

    /// [`Server::start_with`], with `env` added to the server's environment.
    pub fn start_with_env(
        database: &str,
        demo_persons: usize,
        args: &[String],
        admin_token: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        for _ in 0..START_ATTEMPTS {
            let addr = format!("127.0.0.1:{}", free_port());
            let mut command = Command::new(env!("CARGO_BIN_EXE_yibao"));
            command
                .args(["serve", "--demo", "--demo-persons", &demo_persons.to_string()])
                .args(["--listen", &addr, "--database", database])
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            command.args(args);
            // On PostgreSQL the key file would be made in the working directory: give each
            // database its own, beside the temporary files (SQLite puts it beside the database).
            if database.starts_with("postgres") {
                command.env("YIBAO_SECRET_KEY_FILE", key_file_for(database));
            }
            for (name, value) in env {
                command.env(name, value);
            }
            match admin_token {
                Some(token) => command.env("YIBAO_ADMIN_TOKEN", token),
                None => command.env_remove("YIBAO_ADMIN_TOKEN"),
            };
            let mut child = command.spawn().expect("start yibao serve");
            let log = Arc::new(Mutex::new(Vec::new()));
            let (listening_tx, listening_rx) = mpsc::channel();
            // The server logs "national interface at http://ADDR…" once it has bound ADDR: that,
            // not /health (which another process on a reused port could answer), says it is ours.
            let marker = format!("national interface at http://{addr}/");
            let outputs: [Box<dyn Read + Send>; 2] = [
                Box::new(child.stdout.take().expect("stdout")),
                Box::new(child.stderr.take().expect("stderr")),
            ];
            for output in outputs {
                let log = log.clone();
                let tx = listening_tx.clone();
                let marker = marker.clone();
                std::thread::spawn(move || {
                    for line in BufReader::new(output).lines() {
                        let Ok(line) = line else { break };
                        if line.contains(&marker) {
                            let _ = tx.send(());
                        }
                        log.lock().expect("log lock").push(line);
                    }
                });
            }
            let mut server = Server { child, addr, log };
            let deadline = Instant::now() + STARTUP_TIMEOUT;
            loop {
                if listening_rx.recv_timeout(Duration::from_millis(50)).is_ok() {
                    server.wait_healthy(deadline);
                    return server;
                }
                if let Some(status) = server.child.try_wait().expect("poll the server") {
                    // Let the readers catch the last lines.
                    std::thread::sleep(Duration::from_millis(50));
                    let log = server.log_text();
                    if log.contains("Address already in use") {
                        break; // the port was taken between picking and binding: try another
                    }
                    panic!("yibao serve exited with {status} before listening:\n{log}");
                }
                assert!(
                    Instant::now() < deadline,
                    "yibao serve did not start in {STARTUP_TIMEOUT:?}"
                );
            }
        }
        panic!("yibao serve could not bind a free port in {START_ATTEMPTS} attempts");
    }

    pub fn wait_healthy(&self, deadline: Instant) {
        loop {
            if let Ok(reply) = try_http(&self.addr, "GET", "/health", &[], b"") {
                if reply.status == 200 && health_ok(&reply.body) {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "/health did not answer ok");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        self.log.lock().map(|l| l.join("\n")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- yibao serve at {} (last lines of its log) ---\n{}",
                self.addr,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
}

/// Whether a `/health` body says ok.
pub fn health_ok(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v["status"] == "ok")
}

pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpReply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 exchange on a new connection (`Connection: close`).
pub fn try_http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> std::io::Result<HttpReply> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
    stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    // JSON unless the caller names its own content type (a multipart form).
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
    {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut request = request.into_bytes();
    request.extend_from_slice(body);
    // Write from another thread: a server refusing a large body may answer (and close) before
    // reading all of it.
    let mut writer = stream.try_clone()?;
    let sender = std::thread::spawn(move || writer.write_all(&request).and_then(|()| writer.flush()));
    let mut raw = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A reset after the answer arrived (the server closed with request bytes unread).
            Err(_) if !raw.is_empty() => break,
            Err(e) => return Err(e),
        }
    }
    let _ = sender.join();
    parse_http(&raw).ok_or_else(|| std::io::Error::other(format!("bad HTTP answer: {}", String::from_utf8_lossy(&raw))))
}

pub fn http(addr: &str, method: &str, path: &str, headers: &[(String, String)], body: &[u8]) -> HttpReply {
    try_http(addr, method, path, headers, body).unwrap_or_else(|e| panic!("{method} http://{addr}{path}: {e}"))
}

pub fn parse_http(raw: &[u8]) -> Option<HttpReply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let body = if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut rest = rest;
        loop {
            let end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..end]).ok()?.trim(), 16).ok()?;
            rest = &rest[end + 2..];
            if size == 0 {
                break;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        body
    } else if let Some(length) = header("content-length") {
        rest.get(..length.parse::<usize>().ok()?)?.to_vec()
    } else {
        rest.to_vec()
    };
    Some(HttpReply { status, headers, body })
}

/// The first column of `sql`, as text, run directly on the test database: what the store
/// wrote, seen without the platform. (`sql` casts its column to text on PostgreSQL.)
pub fn query_texts(database: &str, sql: &str) -> Vec<String> {
    if let Some(path) = database.strip_prefix("sqlite://") {
        let conn = rusqlite::Connection::open(path.split('?').next().unwrap_or(path)).expect("open the SQLite file");
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |row| row.get::<_, String>(0))
            .expect("query")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        return rows;
    }
    // `?schema=NAME` is ours (the store's), not libpq's: split it off and set the search path.
    let (base, schema) = match database.split_once("schema=") {
        Some((head, name)) => (
            head.trim_end_matches(['?', '&']).to_owned(),
            Some(name.split('&').next().unwrap_or(name).to_owned()),
        ),
        None => (database.to_owned(), None),
    };
    let mut client = ::postgres::Client::connect(&with_param(&base, "connect_timeout=10"), ::postgres::NoTls)
        .expect("connect to PostgreSQL");
    if let Some(schema) = schema {
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\""))
            .expect("search path");
    }
    client
        .query(sql, &[])
        .expect("query")
        .iter()
        .map(|row| row.get::<_, String>(0))
        .collect()
}
