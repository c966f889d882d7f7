//! The platform service.
//!
//! The state of the platform (visits, fee lines, settlements, accumulators, accounts, fund
//! postings, processed messages) changes only on one thread ([`actor`]), which applies requests
//! in batches and commits each batch in one store transaction before answering any request in
//! it. That gives, without locks: two settlements for the same person are serialized; a
//! settlement, its accumulators, the account and its postings land together or not at all; the
//! same `msgid` replays its stored answer; and durability costs one fsync per batch.
// As in yibao-fsi: this crate takes outside input, and since a panic anywhere ends the process
// (the binary aborts on panic), no input may reach an `unwrap`, `expect` or `panic!`. Asserts
// of invariants stay: those are meant to stop the process.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::float_arithmetic)
)]

pub mod actor;
mod cases;
mod certificate;
mod close;
mod enrolment;
mod error;
pub mod exchange;
pub mod ids;
pub mod ledger;
mod monitor;
mod national;
pub mod service;
mod state;

pub use actor::{
    mask, now, Job, NationalAnswer, NationalRequest, Refusal, Vitals, BATCH_REQUESTS_MAX, FAULT_PANIC_INFNO_ENV,
};
pub use cases::Staff;
pub use enrolment::{AdminRequest, EmployerRow, ImportRow, IMPORT_ROWS_MAX};
pub use error::{ErrorKind, PlatformError};
pub use service::Region;
pub use state::{DRG_REFERENCE_KIND, MONITOR_REFERENCE_KIND};

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use yibao_store::{InstitutionRecord, Store, WriteOp};

use crate::ids::IdGenerator;
use crate::state::State;

/// Requests waiting for the platform thread before callers are made to wait to enqueue.
pub const QUEUE_REQUESTS_MAX: usize = 16_384;

/// A handle to the running platform. Cheap to clone; every clone talks to the same thread.
#[derive(Clone)]
pub struct Platform {
    jobs: mpsc::Sender<Job>,
    vitals: Arc<Vitals>,
    pub admdvs: String,
}

/// The platform's health as `/health` reports it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Health {
    pub platform_thread: bool,
    pub commit_thread: bool,
    /// Milliseconds since the last successful commit; `None` before the first.
    pub last_commit_age_ms: Option<i64>,
}

impl Platform {
    /// Starts the platform on a migrated database: `reader` serves the platform thread's reads,
    /// `writer` the commit thread's transactions (two connections to the same database).
    pub fn start(reader: Box<dyn Store>, writer: Box<dyn Store>, region: Region) -> Result<Platform, PlatformError> {
        let state = State::new(reader)?;
        let start_millis = chrono::Utc::now().timestamp_millis().max(0) as u64;
        let ids = Arc::new(IdGenerator::new(&region.admdvs, start_millis));
        let admdvs = region.admdvs.clone();
        let region = Arc::new(region);
        let (tx, rx) = mpsc::channel(QUEUE_REQUESTS_MAX);
        let vitals = Arc::new(Vitals::default());
        // Alive from here: the thread clears it when it ends.
        vitals.platform_alive.store(true, std::sync::atomic::Ordering::SeqCst);
        let thread_vitals = vitals.clone();
        std::thread::Builder::new()
            .name("yibao-platform".into())
            .spawn(move || actor::run(state, writer, region, ids, rx, thread_vitals))
            .map_err(|e| PlatformError::internal(format!("无法启动平台线程: {e}")))?;
        Ok(Platform {
            jobs: tx,
            vitals,
            admdvs,
        })
    }

    /// Whether the threads run, and how long ago the last commit was. Reads shared flags only:
    /// it never waits on the platform (see [`Platform::ping`] for that).
    pub fn health(&self) -> Health {
        use std::sync::atomic::Ordering::SeqCst;
        let last = self.vitals.last_commit_unix_ms.load(SeqCst);
        Health {
            platform_thread: self.vitals.platform_alive.load(SeqCst),
            commit_thread: self.vitals.commit_alive.load(SeqCst),
            last_commit_age_ms: (last > 0).then(|| (chrono::Utc::now().timestamp_millis() - last).max(0)),
        }
    }

    /// A round trip through the platform thread, answered once everything committed before it
    /// is durable: an answer says the platform is taking requests and its commits go through.
    pub async fn ping(&self) -> Result<(), PlatformError> {
        self.ask(Job::Ping).await?
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Job) -> Result<T, PlatformError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(make(tx))
            .await
            .map_err(|_| PlatformError::internal("平台线程已停止".into()))?;
        rx.await.map_err(|_| PlatformError::internal("平台线程已停止".into()))
    }

    /// Runs a national-interface transaction; the answer is the response body (or, for 9102, the
    /// file).
    pub async fn national(&self, request: NationalRequest) -> Result<NationalAnswer, PlatformError> {
        self.ask(|tx| Job::National(Box::new(request), tx)).await
    }

    /// Records a refused request in the audit log.
    pub async fn refused(&self, refusal: Refusal) {
        let _ = self.jobs.send(Job::Refused(refusal)).await;
    }

    pub async fn upsert_institutions(&self, records: Vec<InstitutionRecord>) -> Result<(), PlatformError> {
        self.ask(|tx| Job::UpsertInstitutions(records, tx)).await?
    }

    /// Applies administrative writes (seeding, imports) in the next batch.
    pub async fn apply(&self, ops: Vec<WriteOp>) -> Result<(), PlatformError> {
        self.ask(|tx| Job::Apply(ops, tx)).await?
    }

    /// Runs an administrative request (enrolment, contributions, accounts, indicators); the
    /// answer comes once its writes are durable.
    pub async fn admin(&self, request: AdminRequest) -> Result<serde_json::Value, PlatformError> {
        self.ask(|tx| Job::Admin(Box::new(request), tx)).await?
    }

    pub async fn institutions(&self) -> Result<Vec<InstitutionRecord>, PlatformError> {
        self.ask(Job::Institutions).await
    }

    pub async fn person_count(&self) -> Result<i64, PlatformError> {
        self.ask(Job::PersonCount).await?
    }
}
