//! Group commit: one thread owns the platform's state and its store connection. Requests queue
//! on a channel; the thread takes every request waiting (up to a batch limit), runs each in
//! turn, commits all their writes in one transaction (one fsync), and only then answers them.
//! While a commit is in flight the next batch gathers, so under load batches grow and the cost
//! of durability per request falls.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDateTime;
use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot};
use yibao_fsi::{inf_refmsgid, Envelope, Response, TransactionInput};
use yibao_store::{AuditRecord, InstitutionRecord, MessageRecord, Store, WriteBatch, WriteOp};

use crate::ids::IdGenerator;
use crate::national;
use crate::service::{Ctx, Region};
use crate::state::State;
use crate::PlatformError;

/// The most requests committed together. Bounded so that one batch's latency stays small.
pub const BATCH_REQUESTS_MAX: usize = 1024;

/// A national-interface request, parsed on the caller's thread.
pub struct NationalRequest {
    pub envelope: Envelope,
    pub input: TransactionInput,
    pub received_at: NaiveDateTime,
    pub started: Instant,
    /// What names this request for replay ([`yibao_fsi::request_digest`]): a msgid sent again
    /// with another digest is another request, and is refused rather than answered.
    pub input_digest: [u8; 32],
}

/// A request refused before it reached the platform (bad envelope, authentication): only its
/// audit line is written.
pub struct Refusal {
    pub msgid: String,
    pub infno: String,
    pub institution: String,
    pub message: String,
    pub started: Instant,
}

/// What a national-interface transaction answers: the JSON envelope, or for 9102 the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NationalAnswer {
    Json(Vec<u8>),
    File(crate::exchange::DownloadedFile),
}

impl NationalAnswer {
    /// The JSON body; a file answer is not JSON (callers that only speak JSON get an empty body).
    pub fn into_json(self) -> Vec<u8> {
        match self {
            NationalAnswer::Json(body) => body,
            NationalAnswer::File(_) => Vec::new(),
        }
    }
}

pub enum Job {
    National(Box<NationalRequest>, oneshot::Sender<NationalAnswer>),
    Refused(Refusal),
    UpsertInstitutions(Vec<InstitutionRecord>, oneshot::Sender<Result<(), PlatformError>>),
    /// Administrative writes (seeding, enrolment imports), applied as they are.
    Apply(Vec<WriteOp>, oneshot::Sender<Result<(), PlatformError>>),
    /// An administrative request (enrolment, contributions, indicators): its writes join the
    /// batch; the answer is sent once they are durable.
    Admin(
        Box<crate::enrolment::AdminRequest>,
        oneshot::Sender<Result<serde_json::Value, PlatformError>>,
    ),
    Institutions(oneshot::Sender<Vec<InstitutionRecord>>),
    PersonCount(oneshot::Sender<Result<i64, PlatformError>>),
    /// A health probe: answered when the batch it joins is answered, that is once the batch
    /// before it is durable, so a platform stuck behind a commit does not answer.
    Ping(oneshot::Sender<Result<(), PlatformError>>),
}

/// What `/health` reads: whether the two threads run, and when the last commit ended. Shared
/// by the threads (which set it) and every handle.
#[derive(Debug, Default)]
pub struct Vitals {
    pub platform_alive: AtomicBool,
    pub commit_alive: AtomicBool,
    /// Unix milliseconds of the last successful commit; 0 before the first.
    pub last_commit_unix_ms: AtomicI64,
}

/// Clears a liveness flag when its thread ends, however it ends (a return or an unwinding
/// panic).
struct Alive<'a>(&'a AtomicBool);

impl<'a> Alive<'a> {
    fn mark(flag: &'a AtomicBool) -> Alive<'a> {
        flag.store(true, Ordering::SeqCst);
        Alive(flag)
    }
}

impl Drop for Alive<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Fault injection for the tests that a failure takes the whole process down: when the
/// environment names a transaction code here, the platform thread panics on it, as a broken
/// invariant would. Unset, it does nothing.
pub const FAULT_PANIC_INFNO_ENV: &str = "YIBAO_FAULT_PANIC_INFNO";

struct Pending {
    reply: Reply,
    /// What to answer instead if the commit fails.
    refmsgid: String,
    received_at: NaiveDateTime,
}

enum Reply {
    Body(oneshot::Sender<NationalAnswer>, NationalAnswer),
    Done(oneshot::Sender<Result<(), PlatformError>>),
    Value(
        oneshot::Sender<Result<serde_json::Value, PlatformError>>,
        serde_json::Value,
    ),
}

/// A batch handed to the committer: its writes, and the answers to send once they are durable.
struct CommitJob {
    batch: WriteBatch,
    pending: Vec<Pending>,
}

/// Runs the platform: this thread applies requests; a second thread commits each batch on the
/// `writer` connection while this one already works on the next batch (a pipeline of depth one:
/// a batch is handed over only after the previous one is known to be durable).
pub fn run(
    mut state: State,
    mut writer: Box<dyn Store>,
    region: Arc<Region>,
    ids: Arc<IdGenerator>,
    mut jobs: mpsc::Receiver<Job>,
    vitals: Arc<Vitals>,
) {
    let _alive = Alive::mark(&vitals.platform_alive);
    let fault_panic_infno = std::env::var(FAULT_PANIC_INFNO_ENV).ok().filter(|v| !v.is_empty());
    let (commit_tx, commit_rx) = std::sync::mpsc::sync_channel::<CommitJob>(1);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<bool>();
    let commit_vitals = vitals.clone();
    // Marked alive before the platform takes its first job, so that /health never sees a
    // starting commit thread as a stopped one.
    commit_vitals.commit_alive.store(true, Ordering::SeqCst);
    let spawned = std::thread::Builder::new().name("yibao-commit".into()).spawn(move || {
        let _alive = Alive::mark(&commit_vitals.commit_alive);
        for job in commit_rx {
            let started = Instant::now();
            let result = writer.commit(&job.batch);
            if result.is_ok() {
                commit_vitals
                    .last_commit_unix_ms
                    .store(chrono::Utc::now().timestamp_millis(), Ordering::SeqCst);
            }
            tracing::debug!(
                ops = job.batch.len(),
                requests = job.pending.len(),
                micros = started.elapsed().as_micros() as u64,
                "batch committed"
            );
            let ok = result.is_ok();
            answer(job.pending, result.map_err(|e| e.to_string()));
            if done_tx.send(ok).is_err() {
                break;
            }
        }
    });
    // Without its commit thread the platform can make nothing durable: it stops, and /health
    // says so (both threads stopped).
    let committer = match spawned {
        Ok(handle) => handle,
        Err(e) => {
            tracing::error!(error = %e, "the commit thread could not start; the platform stops");
            vitals.commit_alive.store(false, Ordering::SeqCst);
            return;
        }
    };
    let mut in_flight = false;
    // Answers of the batch being committed, for a msgid repeated while it is in flight.
    let mut previous: Answers = FxHashMap::default();
    // An administrative job waits here while the batch before it is processed: it runs alone.
    let mut stashed: Option<Job> = None;
    loop {
        let first = match stashed.take() {
            Some(job) => job,
            None => match jobs.blocking_recv() {
                Some(job) => job,
                None => break,
            },
        };
        // Administrative requests read enrolments and contributions from the store, not from
        // caches: each runs in a batch of its own, after every earlier batch is durable, and
        // is durable before the next batch starts. They are rare (an enrolment, a monthly run).
        let admin = matches!(first, Job::Admin(..));
        let mut batch = vec![first];
        while !admin && batch.len() < BATCH_REQUESTS_MAX {
            match jobs.try_recv() {
                Ok(job @ Job::Admin(..)) => {
                    stashed = Some(job);
                    break;
                }
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if admin && !wait_in_flight(&mut in_flight, &mut previous, &done_rx) {
            recover(&mut state);
        }
        let mut pending: Vec<Pending> = Vec::with_capacity(batch.len());
        let mut answered: Answers = FxHashMap::default();
        let mut forget_after = false;
        let known = known_messages(&mut state, &batch);
        prefetch_persons(&mut state, &batch);
        for job in batch {
            let now = now();
            match job {
                Job::National(request, reply) => {
                    if fault_panic_infno.as_deref() == Some(request.envelope.infno.as_str()) {
                        injected_fault(&request.envelope.infno);
                    }
                    let refmsgid = inf_refmsgid(&region.admdvs, now, ids.message_serial());
                    let seen = Seen {
                        batch: &answered,
                        in_flight: &previous,
                        stored: &known,
                    };
                    let (body, answer) = handle(&mut state, &region, &ids, &request, now, &refmsgid, &seen);
                    if let Some(body) = answer {
                        answered.insert(
                            request.envelope.msgid.clone(),
                            Remembered {
                                institution: request.envelope.fixmedins_code.clone(),
                                infno: request.envelope.infno.clone(),
                                digest: request.input_digest,
                                body,
                            },
                        );
                    }
                    pending.push(Pending {
                        reply: Reply::Body(reply, body),
                        refmsgid,
                        received_at: request.received_at,
                    });
                }
                Job::Refused(r) => {
                    state.pending.push(WriteOp::InsertAudit(AuditRecord {
                        msgid: r.msgid,
                        infno: r.infno,
                        institution: r.institution,
                        infcode: -1,
                        duration_us: r.started.elapsed().as_micros() as i64,
                        at: now,
                        message: mask(&r.message),
                    }));
                }
                Job::UpsertInstitutions(records, reply) => {
                    for r in records {
                        state.institutions.insert(r.code.clone(), r.clone());
                        state.pending.push(WriteOp::UpsertInstitution(r));
                    }
                    pending.push(Pending {
                        reply: Reply::Done(reply),
                        refmsgid: String::new(),
                        received_at: now,
                    });
                }
                Job::Apply(ops, reply) => {
                    for op in ops {
                        state.pending.push(op);
                    }
                    // Administrative writes may touch anything cached.
                    forget_after = true;
                    pending.push(Pending {
                        reply: Reply::Done(reply),
                        refmsgid: String::new(),
                        received_at: now,
                    });
                }
                Job::Admin(request, reply) => {
                    // A refused request leaves nothing queued: what it queued is dropped.
                    let queued = state.pending.len();
                    match crate::enrolment::handle(&mut state, &region, &ids, now, *request) {
                        Ok(value) => pending.push(Pending {
                            reply: Reply::Value(reply, value),
                            refmsgid: String::new(),
                            received_at: now,
                        }),
                        Err(e) => {
                            state.pending.ops.truncate(queued);
                            let _ = reply.send(Err(e));
                        }
                    }
                }
                Job::Institutions(reply) => {
                    let _ = reply.send(state.institutions.values().cloned().collect());
                }
                Job::PersonCount(reply) => {
                    let _ = reply.send(
                        state
                            .store
                            .person_count()
                            .map_err(|e| PlatformError::internal(e.to_string())),
                    );
                }
                Job::Ping(reply) => pending.push(Pending {
                    reply: Reply::Done(reply),
                    refmsgid: String::new(),
                    received_at: now,
                }),
            }
        }
        // This batch was computed on top of the one in flight: it may go only if that one
        // became durable.
        if !wait_in_flight(&mut in_flight, &mut previous, &done_rx) {
            state.pending = WriteBatch::default();
            answer(pending, Err("an earlier batch failed to commit".into()));
            recover(&mut state);
            continue;
        }
        if state.pending.is_empty() {
            answer(pending, Ok(()));
        } else {
            let batch = std::mem::take(&mut state.pending);
            if commit_tx.send(CommitJob { batch, pending }).is_err() {
                tracing::error!("the commit thread has stopped");
                break;
            }
            in_flight = true;
            previous = answered;
            if admin && !wait_in_flight(&mut in_flight, &mut previous, &done_rx) {
                recover(&mut state);
                continue;
            }
        }
        if forget_after || state.is_full() {
            // Caches may be emptied only when nothing in flight depends on them.
            if !wait_in_flight(&mut in_flight, &mut previous, &done_rx) {
                recover(&mut state);
                continue;
            }
            state.forget();
        }
    }
    drop(commit_tx);
    let _ = committer.join();
}

#[allow(
    clippy::panic,
    reason = "the fault injected is a panic, as a broken invariant's would be"
)]
fn injected_fault(infno: &str) -> ! {
    panic!("fault injection ({FAULT_PANIC_INFNO_ENV}): infno {infno}");
}

/// Waits for the batch in flight, if there is one, and says whether it became durable (`true`
/// when nothing was in flight).
fn wait_in_flight(in_flight: &mut bool, previous: &mut Answers, done: &std::sync::mpsc::Receiver<bool>) -> bool {
    if !std::mem::take(in_flight) {
        return true;
    }
    previous.clear();
    done.recv().unwrap_or(false)
}

/// After a failed commit: nothing of the failed batches is stored, so forget what the caches
/// believe and start again from the store.
fn recover(state: &mut State) {
    state.forget();
    if let Err(e) = state.reload_institutions() {
        tracing::error!(error = %e, "reloading institutions after a failed commit");
    }
}

/// Sends the answers of a batch: as computed when its writes are durable, as a retryable
/// failure when they are not.
fn answer(pending: Vec<Pending>, committed: Result<(), String>) {
    if let Err(e) = &committed {
        tracing::error!(error = %e, "commit failed; batch answered as failed");
    }
    let now = now();
    for p in pending {
        match (p.reply, &committed) {
            (Reply::Body(tx, body), Ok(())) => {
                let _ = tx.send(body);
            }
            (Reply::Body(tx, _), Err(_)) => {
                let body = Response::error(
                    p.refmsgid,
                    p.received_at,
                    now,
                    "系统暂时无法保存数据,本次交易未生效,请稍后重试",
                )
                .to_json_bytes();
                let _ = tx.send(NationalAnswer::Json(body));
            }
            (Reply::Done(tx), Ok(())) => {
                let _ = tx.send(Ok(()));
            }
            (Reply::Done(tx), Err(e)) => {
                let _ = tx.send(Err(PlatformError::internal(e.clone())));
            }
            (Reply::Value(tx, value), Ok(())) => {
                let _ = tx.send(Ok(value));
            }
            (Reply::Value(tx, _), Err(e)) => {
                let _ = tx.send(Err(PlatformError::internal(format!("保存失败, 本次操作未生效: {e}"))));
            }
        }
    }
}

/// The region's wall-clock time.
pub fn now() -> NaiveDateTime {
    chrono::Local::now().naive_local()
}

fn handle(
    state: &mut State,
    region: &Region,
    ids: &IdGenerator,
    request: &NationalRequest,
    now: NaiveDateTime,
    refmsgid: &str,
    seen: &Seen,
) -> (NationalAnswer, Option<Vec<u8>>) {
    let envelope = &request.envelope;
    if let TransactionInput::FileDownload(download) = &request.input {
        return (
            file_download(state, region, ids, request, now, refmsgid, download),
            None,
        );
    }
    let changes = national::changes_state(&request.input);
    if changes {
        // A state-changing message is kept under its msgid: the msgid must be the caller's own.
        if let Err(e) = yibao_fsi::check_msgid_layout(&envelope.msgid, &envelope.fixmedins_code) {
            let text = PlatformError::from(e).to_string();
            audit(state, request, now, -1, &text);
            let body = Response::error(refmsgid.to_owned(), request.received_at, now, &text).to_json_bytes();
            return (NationalAnswer::Json(body), None);
        }
        // The same msgid answers what it answered the first time, and changes nothing again.
        match replay(envelope, &request.input_digest, seen) {
            Some(Replay::Answer(body)) => {
                audit(state, request, now, 0, "重复报文,返回原应答");
                return (NationalAnswer::Json(body), None);
            }
            Some(Replay::Refuse(text)) => {
                audit(state, request, now, -1, &text);
                let body = Response::error(refmsgid.to_owned(), request.received_at, now, &text).to_json_bytes();
                return (NationalAnswer::Json(body), None);
            }
            None => {}
        }
    }
    let result = as_institution(state, region, ids, envelope, now, |state, ctx| {
        national::dispatch(state, ctx, &request.input)
    });
    let note = national::audit_note(&request.input, result.as_ref().ok().and_then(Option::as_ref));
    let (infcode, message, store_answer, response) = match result {
        Ok(output) => (
            0,
            note.unwrap_or_default(),
            true,
            Response::ok(refmsgid.to_owned(), request.received_at, now, output),
        ),
        Err(e) => {
            let text = e.to_string();
            let response = Response::error(refmsgid.to_owned(), request.received_at, now, &text);
            let logged = match note {
                Some(note) => format!("{text}; {note}"),
                None => text,
            };
            (-1, logged, e.is_final(), response)
        }
    };
    let body = response.to_json_bytes();
    let mut remembered = None;
    if changes && store_answer {
        state.pending.push(WriteOp::InsertMessage(MessageRecord {
            msgid: envelope.msgid.clone(),
            infno: envelope.infno.clone(),
            institution: envelope.fixmedins_code.clone(),
            received_at: request.received_at,
            response_json: String::from_utf8_lossy(&body).into_owned(),
            request_digest: request.input_digest.to_vec(),
        }));
        remembered = Some(body.clone());
    }
    audit(state, request, now, infcode, &message);
    (NationalAnswer::Json(body), remembered)
}

/// Runs `work` for the envelope's institution, which must be registered and active.
fn as_institution<T>(
    state: &mut State,
    region: &Region,
    ids: &IdGenerator,
    envelope: &Envelope,
    now: NaiveDateTime,
    work: impl FnOnce(&mut State, &Ctx) -> Result<T, PlatformError>,
) -> Result<T, PlatformError> {
    match state.institutions.get(&envelope.fixmedins_code) {
        Some(i) if i.active => {
            let ctx = Ctx {
                region,
                ids,
                now,
                institution: &envelope.fixmedins_code,
                msgid: &envelope.msgid,
                infno: &envelope.infno,
            };
            work(state, &ctx)
        }
        _ => Err(PlatformError::field(
            "fixmedins_code",
            format!("定点医药机构编号{}未登记或已暂停", envelope.fixmedins_code),
        )),
    }
}

/// 9102: the file itself, or a refusal in the interface's form. Audited like any transaction.
fn file_download(
    state: &mut State,
    region: &Region,
    ids: &IdGenerator,
    request: &NationalRequest,
    now: NaiveDateTime,
    refmsgid: &str,
    input: &yibao_fsi::Input9102,
) -> NationalAnswer {
    let envelope = &request.envelope;
    let result = as_institution(state, region, ids, envelope, now, |state, ctx| {
        crate::exchange::download(state, ctx, input)
    });
    match result {
        Ok(file) => {
            audit(state, request, now, 0, "");
            NationalAnswer::File(file)
        }
        Err(e) => {
            let text = e.to_string();
            audit(state, request, now, -1, &text);
            NationalAnswer::Json(Response::error(refmsgid.to_owned(), request.received_at, now, &text).to_json_bytes())
        }
    }
}

/// An answer kept for replay, with what names its request.
struct Remembered {
    institution: String,
    infno: String,
    digest: [u8; 32],
    body: Vec<u8>,
}

/// Answers by msgid: earlier in this batch, or in the batch being committed.
type Answers = FxHashMap<String, Remembered>;

/// Where an earlier answer to a msgid can be: earlier in this batch, in the batch being
/// committed, or in the store (looked up for the whole batch at once).
struct Seen<'a> {
    batch: &'a Answers,
    in_flight: &'a Answers,
    stored: &'a Result<FxHashMap<String, MessageRecord>, String>,
}

/// Loads, in one go, the persons that the batch's registrations and admissions name. Only an
/// optimization: a person not prefetched is loaded when first needed.
fn prefetch_persons(state: &mut State, batch: &[Job]) {
    use yibao_fsi::TransactionInput as T;
    let person_nos: Vec<&str> = batch
        .iter()
        .filter_map(|job| match job {
            Job::National(r, _) => match &r.input {
                T::Registration(i) => Some(i.psn_no.as_str()),
                T::Admission(i) => Some(i.mdtrtinfo.psn_no.as_str()),
                T::OutpatientSettle(i) | T::OutpatientPreSettle(i) => Some(i.psn_no.as_str()),
                T::InpatientSettle(i) | T::InpatientPreSettle(i) => Some(i.psn_no.as_str()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if let Err(e) = state.prefetch_persons(&person_nos) {
        tracing::warn!(error = %e, "prefetching persons; they will be loaded one by one");
    }
}

/// The stored messages among a batch's state-changing requests, in one store round trip.
fn known_messages(state: &mut State, batch: &[Job]) -> Result<FxHashMap<String, MessageRecord>, String> {
    let msgids: Vec<&str> = batch
        .iter()
        .filter_map(|job| match job {
            Job::National(r, _) if national::changes_state(&r.input) => Some(r.envelope.msgid.as_str()),
            _ => None,
        })
        .collect();
    let mut known = FxHashMap::default();
    for chunk in msgids.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
        for m in state.store.messages(chunk).map_err(|e| e.to_string())? {
            known.insert(m.msgid.clone(), m);
        }
    }
    Ok(known)
}

/// What a msgid seen before gets: its first answer again, or a refusal.
enum Replay {
    Answer(Vec<u8>),
    Refuse(String),
}

/// The text for a msgid reused for another request. The same words whoever used it first: a
/// caller learns nothing about other institutions' messages (their msgids cannot be the
/// caller's anyway, [`yibao_fsi::check_msgid_layout`]; this covers messages stored before that
/// rule).
const MSGID_REUSED: &str = "msgid: 报文ID已使用且报文内容不同,重发请使用原报文,新交易请使用新报文ID";

/// The earlier answer to a msgid already processed, if any. Only a true retry (same
/// institution, same infno, same input) is answered with it; any other use of the msgid is
/// refused, so that a client reading infcode 0 is never told a transaction succeeded that was
/// not run.
fn replay(envelope: &Envelope, digest: &[u8; 32], seen: &Seen) -> Option<Replay> {
    let same = |institution: &str, infno: &str, stored_digest: &[u8]| {
        institution == envelope.fixmedins_code
            && infno == envelope.infno
            // An empty digest was stored before digests were kept: its infno has to do.
            && (stored_digest.is_empty() || stored_digest == digest)
    };
    if let Some(r) = seen
        .batch
        .get(&envelope.msgid)
        .or_else(|| seen.in_flight.get(&envelope.msgid))
    {
        return Some(if same(&r.institution, &r.infno, &r.digest) {
            Replay::Answer(r.body.clone())
        } else {
            Replay::Refuse(MSGID_REUSED.to_owned())
        });
    }
    match seen.stored {
        Ok(stored) => stored.get(&envelope.msgid).map(|record| {
            if same(&record.institution, &record.infno, &record.request_digest) {
                Replay::Answer(record.response_json.clone().into_bytes())
            } else {
                Replay::Refuse(MSGID_REUSED.to_owned())
            }
        }),
        Err(e) => Some(Replay::Refuse(format!("系统暂时无法查询报文记录,请稍后重试({e})"))),
    }
}

fn audit(state: &mut State, request: &NationalRequest, now: NaiveDateTime, infcode: i32, message: &str) {
    let envelope = &request.envelope;
    state.pending.push(WriteOp::InsertAudit(AuditRecord {
        msgid: envelope.msgid.clone(),
        infno: envelope.infno.clone(),
        institution: envelope.fixmedins_code.clone(),
        infcode,
        duration_us: request.started.elapsed().as_micros() as i64,
        at: now,
        message: mask(message),
    }));
}

/// Hides citizen IDs (18 characters, 17 digits and a check character) in text bound for logs:
/// `500103********123X`.
pub fn mask(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let window = chars.get(i..i + 18);
        let is_id = window.is_some_and(|w| {
            w[..17].iter().all(char::is_ascii_digit) && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x')
        });
        if is_id {
            out.extend(&chars[i..i + 6]);
            out.push_str("********");
            out.extend(&chars[i + 14..i + 18]);
            i += 18;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_citizen_ids() {
        assert_eq!(
            super::mask("证件11010519491231002X不存在"),
            "证件110105********002X不存在"
        );
        assert_eq!(super::mask("短号123"), "短号123");
    }
}
