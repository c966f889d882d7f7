//! The platform's working state: caches of what the store holds, filled on demand and owned by
//! the one thread that writes. Because every write goes through that thread, a cached value is
//! always the committed value plus the writes of the batch in progress; if a commit fails the
//! caches are dropped and refilled from the store.

use chrono::NaiveDateTime;
use rustc_hash::FxHashMap;
use yibao_money::Money;
use yibao_settle::YearToDate;
use yibao_store::{
    ChronicFilingRecord, FeeLineRecord, InstitutionRecord, PersonRecord, SettlementRecord, Store, VisitRecord,
    WriteBatch, WriteOp,
};

use crate::PlatformError;

/// Entries kept before the caches are emptied (between batches): enough for a day's open
/// visits of a large region, small enough to bound memory.
pub const CACHE_ENTRIES_MAX: usize = 500_000;

pub struct PersonEntry {
    pub record: PersonRecord,
    pub filings: Vec<ChronicFilingRecord>,
}

pub struct VisitEntry {
    pub record: VisitRecord,
    pub lines: Vec<FeeLineRecord>,
}

pub struct State {
    pub store: Box<dyn Store>,
    pub institutions: FxHashMap<String, InstitutionRecord>,
    persons: FxHashMap<String, PersonEntry>,
    certnos: FxHashMap<String, String>,
    ytd: FxHashMap<(String, i32), YearToDate>,
    visits: FxHashMap<String, VisitEntry>,
    settlements: FxHashMap<String, SettlementRecord>,
    /// Settlement ids by the msgid that created them (for 2601).
    settlement_msgids: FxHashMap<String, String>,
    /// Writes of the batch in progress.
    pub pending: WriteBatch,
    /// The DRG grouping scheme last imported (`yibao drg import`), loaded by the first
    /// settlement list that needs it: start-up and batch commands do not pay for it.
    drg: Option<std::sync::Arc<DrgScheme>>,
    /// The 两库 knowledge base last imported (`yibao monitor import`), read once: an import
    /// takes the writer lock, so it never happens while this process runs. `Some(None)`: none.
    knowledge: Option<Option<std::sync::Arc<yibao_monitor::KnowledgeBase>>>,
    /// Institutions suspended by confirmed cases (暂停医保服务): institution → (until, case), read
    /// once and kept current by the case steps this thread takes.
    suspensions: Option<FxHashMap<String, Vec<(NaiveDateTime, String)>>>,
}

/// A loaded DRG grouping scheme.
pub struct DrgScheme {
    pub version: String,
    pub tables: yibao_drg::Tables,
}

/// The kind under which DRG table sets are imported.
pub const DRG_REFERENCE_KIND: &str = "chs-drg";

/// The kind under which the 两库 knowledge points are imported.
pub const MONITOR_REFERENCE_KIND: &str = "liangku";

/// Loads the newest imported 两库; a stored import that no longer reads is an error.
pub fn load_knowledge(store: &mut dyn Store) -> Result<Option<yibao_monitor::KnowledgeBase>, PlatformError> {
    let Some(record) = store.reference_table_latest(MONITOR_REFERENCE_KIND).map_err(db)? else {
        return Ok(None);
    };
    let files: Vec<(String, String)> =
        serde_json::from_str::<std::collections::BTreeMap<String, String>>(&record.files_json)
            .map_err(|e| PlatformError::internal(format!("两库{}无法解读: {e}", record.version)))?
            .into_iter()
            .collect();
    yibao_monitor::KnowledgeBase::read(&files).map(Some).map_err(|errors| {
        let first = errors.first().map(ToString::to_string).unwrap_or_default();
        PlatformError::internal(format!(
            "两库{}无法载入({}处错误): {first}",
            record.version,
            errors.len()
        ))
    })
}

/// Loads the newest imported DRG scheme; a stored scheme that no longer loads is an error (the
/// operator must re-import it), not a silent absence.
pub fn load_drg_scheme(store: &mut dyn Store) -> Result<Option<DrgScheme>, PlatformError> {
    let Some(record) = store.reference_table_latest(DRG_REFERENCE_KIND).map_err(db)? else {
        return Ok(None);
    };
    let files: std::collections::BTreeMap<String, String> = serde_json::from_str(&record.files_json)
        .map_err(|e| PlatformError::internal(format!("DRG分组方案{}无法解读: {e}", record.version)))?;
    let texts = yibao_drg::TableTexts::from_named(|name| files.get(name).map(String::as_str))
        .map_err(|e| PlatformError::internal(format!("DRG分组方案{}: {e}", record.version)))?;
    let tables = yibao_drg::Tables::load(&texts)
        .map_err(|e| PlatformError::internal(format!("DRG分组方案{}无法载入: {e}", record.version)))?;
    Ok(Some(DrgScheme {
        version: record.version,
        tables,
    }))
}

fn db(e: yibao_store::StoreError) -> PlatformError {
    PlatformError::internal(e.to_string())
}

impl State {
    pub fn new(mut store: Box<dyn Store>) -> Result<State, PlatformError> {
        let institutions = store
            .institutions()
            .map_err(db)?
            .into_iter()
            .map(|i| (i.code.clone(), i))
            .collect();
        Ok(State {
            store,
            institutions,
            persons: FxHashMap::default(),
            certnos: FxHashMap::default(),
            ytd: FxHashMap::default(),
            visits: FxHashMap::default(),
            settlements: FxHashMap::default(),
            settlement_msgids: FxHashMap::default(),
            pending: WriteBatch::default(),
            drg: None,
            knowledge: None,
            suspensions: None,
        })
    }

    /// Forgets every cached value (after a failed commit, or when the caches are full).
    pub fn forget(&mut self) {
        // Read again from the store: a failed commit may have carried a case step.
        self.suspensions = None;
        self.persons.clear();
        self.certnos.clear();
        self.ytd.clear();
        self.visits.clear();
        self.settlements.clear();
        self.settlement_msgids.clear();
    }

    /// Whether the caches have grown past their bound and should be emptied.
    pub fn is_full(&self) -> bool {
        self.persons.len() + self.visits.len() + self.settlements.len() + self.ytd.len() > CACHE_ENTRIES_MAX
    }

    pub fn reload_institutions(&mut self) -> Result<(), PlatformError> {
        self.institutions = self
            .store
            .institutions()
            .map_err(db)?
            .into_iter()
            .map(|i| (i.code.clone(), i))
            .collect();
        Ok(())
    }

    /// The DRG scheme to group with, loaded from the store on first use.
    pub fn drg_scheme(&mut self) -> Result<Option<std::sync::Arc<DrgScheme>>, PlatformError> {
        if self.drg.is_none() {
            // While none is imported, each settlement list asks the store again (one small read).
            self.drg = load_drg_scheme(self.store.as_mut())?.map(std::sync::Arc::new);
        }
        Ok(self.drg.clone())
    }

    /// Whether `institution` is suspended at `now`: until when, and by which case.
    pub fn suspension(
        &mut self,
        institution: &str,
        now: NaiveDateTime,
    ) -> Result<Option<(NaiveDateTime, String)>, PlatformError> {
        if self.suspensions.is_none() {
            let mut map: FxHashMap<String, Vec<(NaiveDateTime, String)>> = FxHashMap::default();
            for (inst, until, case_id) in self.store.suspensions(now).map_err(db)? {
                map.entry(inst).or_default().push((until, case_id));
            }
            self.suspensions = Some(map);
        }
        Ok(self
            .suspensions
            .as_ref()
            .and_then(|m| m.get(institution))
            .and_then(|v| {
                v.iter()
                    .filter(|(until, _)| *until > now)
                    .max_by_key(|(until, _)| *until)
            })
            .cloned())
    }

    /// A case step changed a suspension: `until` from now (`None`: the case no longer suspends).
    pub fn set_suspension(&mut self, institution: &str, case_id: &str, until: Option<NaiveDateTime>) {
        if let Some(map) = self.suspensions.as_mut() {
            let entries = map.entry(institution.to_owned()).or_default();
            entries.retain(|(_, c)| c != case_id);
            if let Some(until) = until {
                entries.push((until, case_id.to_owned()));
            }
        }
    }

    /// The 两库 knowledge base, read from the store on first use.
    pub fn knowledge(&mut self) -> Result<Option<std::sync::Arc<yibao_monitor::KnowledgeBase>>, PlatformError> {
        if self.knowledge.is_none() {
            self.knowledge = Some(load_knowledge(self.store.as_mut())?.map(std::sync::Arc::new));
        }
        Ok(self.knowledge.clone().flatten())
    }

    /// Puts a person's new settlement view in the cache (enrolment changed it). The caller has
    /// queued the matching write and kept the cached account balance.
    pub fn put_person(&mut self, record: PersonRecord) {
        self.certnos.insert(record.certno.clone(), record.person_no.clone());
        match self.persons.get_mut(&record.person_no) {
            Some(entry) => entry.record = record,
            None => {
                self.persons.insert(
                    record.person_no.clone(),
                    PersonEntry {
                        record,
                        filings: Vec::new(),
                    },
                );
            }
        }
    }

    /// A cached person's settlement view, if cached.
    pub fn cached_person(&self, person_no: &str) -> Option<PersonRecord> {
        self.persons.get(person_no).map(|e| e.record.clone())
    }

    /// A cached person's account balance, if cached.
    pub fn cached_balance(&self, person_no: &str) -> Option<Money> {
        self.persons.get(person_no).map(|e| e.record.account_balance)
    }

    /// Sets a cached person's balance (a credit queued in this batch); no-op when not cached.
    pub fn set_cached_balance(&mut self, person_no: &str, balance: Money) {
        if let Some(entry) = self.persons.get_mut(person_no) {
            entry.record.account_balance = balance;
        }
    }

    pub fn person(&mut self, person_no: &str) -> Result<Option<&mut PersonEntry>, PlatformError> {
        if !self.persons.contains_key(person_no) {
            let Some(record) = self.store.person(person_no).map_err(db)? else {
                return Ok(None);
            };
            let filings = self.store.chronic_filings(person_no).map_err(db)?;
            self.certnos.insert(record.certno.clone(), record.person_no.clone());
            self.persons
                .insert(person_no.to_owned(), PersonEntry { record, filings });
        }
        Ok(self.persons.get_mut(person_no))
    }

    /// Loads the persons a batch will need that are not cached yet, in one store query for the
    /// persons and one for their filings (one round trip each on PostgreSQL).
    pub fn prefetch_persons(&mut self, person_nos: &[&str]) -> Result<(), PlatformError> {
        let mut missing: Vec<&str> = person_nos
            .iter()
            .copied()
            .filter(|p| !self.persons.contains_key(*p))
            .collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
            let records = self.store.persons_by_no(chunk).map_err(db)?;
            let mut filings = self.store.chronic_filings_of(chunk).map_err(db)?;
            for record in records {
                let mine: Vec<ChronicFilingRecord> = {
                    let (mine, rest): (Vec<_>, Vec<_>) =
                        filings.into_iter().partition(|f| f.person_no == record.person_no);
                    filings = rest;
                    mine
                };
                self.certnos.insert(record.certno.clone(), record.person_no.clone());
                self.persons
                    .insert(record.person_no.clone(), PersonEntry { record, filings: mine });
            }
        }
        Ok(())
    }

    pub fn person_by_certno(&mut self, certno: &str) -> Result<Option<&mut PersonEntry>, PlatformError> {
        let person_no = match self.certnos.get(certno) {
            Some(p) => p.clone(),
            None => match self.store.person_by_certno(certno).map_err(db)? {
                Some(record) => record.person_no,
                None => return Ok(None),
            },
        };
        self.person(&person_no)
    }

    pub fn year_to_date(&mut self, person_no: &str, year: i32) -> Result<&mut YearToDate, PlatformError> {
        let key = (person_no.to_owned(), year);
        if !self.ytd.contains_key(&key) {
            let accumulators = self.store.accumulators(person_no, year).map_err(db)?;
            self.ytd.insert(key.clone(), YearToDate { year, accumulators });
        }
        // Present: found, or inserted just above.
        self.ytd
            .get_mut(&key)
            .ok_or_else(|| PlatformError::internal(format!("参保人{person_no}的{year}年度累计缺失")))
    }

    /// Whether a cached visit (one registered in a batch not yet durable among them) is the
    /// person's at the institution: the store's reader does not see those yet.
    pub fn visits_pending_for(&self, person_no: &str, institution: &str) -> bool {
        self.visits
            .values()
            .any(|v| v.record.person_no == person_no && v.record.institution == institution)
    }

    pub fn visit(&mut self, visit_id: &str) -> Result<Option<&mut VisitEntry>, PlatformError> {
        if !self.visits.contains_key(visit_id) {
            let Some(record) = self.store.visit(visit_id).map_err(db)? else {
                return Ok(None);
            };
            let lines = self.store.fee_lines(visit_id).map_err(db)?;
            self.visits.insert(visit_id.to_owned(), VisitEntry { record, lines });
        }
        Ok(self.visits.get_mut(visit_id))
    }

    pub fn insert_visit(&mut self, record: VisitRecord) {
        self.pending.push(WriteOp::InsertVisit(record.clone()));
        self.visits.insert(
            record.visit_id.clone(),
            VisitEntry {
                record,
                lines: Vec::new(),
            },
        );
    }

    pub fn settlement(&mut self, settlement_id: &str) -> Result<Option<&mut SettlementRecord>, PlatformError> {
        if !self.settlements.contains_key(settlement_id) {
            let Some(record) = self.store.settlement(settlement_id).map_err(db)? else {
                return Ok(None);
            };
            self.settlement_msgids
                .insert(record.msgid.clone(), record.settlement_id.clone());
            self.settlements.insert(settlement_id.to_owned(), record);
        }
        Ok(self.settlements.get_mut(settlement_id))
    }

    pub fn settlement_id_by_msgid(&mut self, msgid: &str) -> Result<Option<String>, PlatformError> {
        if let Some(id) = self.settlement_msgids.get(msgid) {
            return Ok(Some(id.clone()));
        }
        match self.store.settlement_by_msgid(msgid).map_err(db)? {
            Some(record) => {
                let id = record.settlement_id.clone();
                self.settlement_msgids.insert(msgid.to_owned(), id.clone());
                self.settlements.insert(id.clone(), record);
                Ok(Some(id))
            }
            None => Ok(None),
        }
    }

    pub fn insert_settlement(&mut self, record: SettlementRecord) {
        self.pending.push(WriteOp::InsertSettlement(record.clone()));
        self.settlement_msgids
            .insert(record.msgid.clone(), record.settlement_id.clone());
        self.settlements.insert(record.settlement_id.clone(), record);
    }
}
