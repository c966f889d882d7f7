//! The rows the platform stores. Plain data: the platform builds them, the backends write and
//! read them. Money is exact fen; times are local (the pooling region's) wall-clock times.

use chrono::{NaiveDate, NaiveDateTime};
use yibao_codes::{InsuranceType, MedicalType, PersonType, Sex, SpecialGroup, Tier};
use yibao_money::{Money, Price, Quantity};
use yibao_settle::Accumulator;

/// A designated institution (定点医药机构) and its interface credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstitutionRecord {
    /// 定点医药机构编号, e.g. H50010200001 (hospital) or P50010200001 (pharmacy).
    pub code: String,
    pub name: String,
    /// The national grade `hosp_lv` (01–14); pharmacies use "11" 无等级.
    pub hosp_lv: String,
    /// 6-digit division of the institution.
    pub admdvs: String,
    /// `x-tif-paasid` the institution signs with.
    pub paas_id: String,
    /// The shared secret of the `x-tif-*` signature. Stored as given by the bureau.
    pub secret: String,
    pub active: bool,
}

/// An insured person with their current insurance relationship.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRecord {
    /// 人员编号 `psn_no`.
    pub person_no: String,
    /// 证件号码 (citizen ID).
    pub certno: String,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// 民族 `naty` code.
    pub ethnicity: String,
    pub insurance: InsuranceType,
    pub person_type: PersonType,
    pub tier: Option<Tier>,
    pub groups: Vec<SpecialGroup>,
    pub civil_servant: bool,
    /// 参保地医保区划.
    pub insured_admdvs: String,
    pub employer_name: String,
    /// 参保状态 `psn_insu_stas`: 1 正常参保, 2 暂停, 4 终止.
    pub status: String,
    pub enrolled_on: NaiveDate,
    /// First day the funds pay (end of a waiting period), if any.
    pub benefits_from: Option<NaiveDate>,
    /// Personal account balance.
    pub account_balance: Money,
    /// The person (`person_no`) whose account is bound to pay for this one (家庭共济), if any.
    pub family_payer: Option<String>,
}

/// The lifecycle of a visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VisitStatus {
    /// 2201 / 2401.
    Registered,
    /// 2402 (inpatient discharged).
    Discharged,
    /// 2207 / 2304 (final settlement).
    Settled,
    /// 2202 / 2404: registration cancelled.
    Cancelled,
}

impl VisitStatus {
    pub fn code(self) -> &'static str {
        match self {
            VisitStatus::Registered => "registered",
            VisitStatus::Discharged => "discharged",
            VisitStatus::Settled => "settled",
            VisitStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<VisitStatus> {
        [
            VisitStatus::Registered,
            VisitStatus::Discharged,
            VisitStatus::Settled,
            VisitStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// A visit (就诊): registration, visit information and discharge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisitRecord {
    /// 就诊ID `mdtrt_id`, issued by the platform.
    pub visit_id: String,
    pub person_no: String,
    pub institution: String,
    pub insurance: InsuranceType,
    pub medical_type: MedicalType,
    pub begin_time: NaiveDateTime,
    pub end_time: Option<NaiveDateTime>,
    /// The HIS's own visit number (`ipt_otp_no` / `ipt_no`).
    pub his_visit_no: String,
    /// 病种编码 given with the visit information (chronic disease, single-disease).
    pub disease_code: Option<String>,
    /// Main diagnosis code.
    pub diagnosis_code: Option<String>,
    pub status: VisitStatus,
    pub in_county: bool,
    /// The attending doctor (医保医师代码 `atddr_no`), when the HIS gave one.
    pub doctor: Option<String>,
}

/// An uploaded fee line (费用明细).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeeLineRecord {
    pub visit_id: String,
    /// `feedetl_sn`, unique within the visit.
    pub sn: String,
    /// `chrg_bchno` (outpatient batch) or empty.
    pub batch_no: String,
    pub code: String,
    /// The hospital's own code `medins_list_codg`.
    pub local_code: String,
    pub quantity: Quantity,
    pub price: Price,
    pub amount: Money,
    pub occurred_at: NaiveDateTime,
    pub disease_code: Option<String>,
    /// `init_feedetl_sn` for refund lines (negative quantity).
    pub refund_of: Option<String>,
    /// Set when a settlement covered this line.
    pub settlement_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SettlementStatus {
    /// In force.
    Settled,
    /// Cancelled (2208/2305) or reversed (2601).
    Cancelled,
}

impl SettlementStatus {
    pub fn code(self) -> &'static str {
        match self {
            SettlementStatus::Settled => "settled",
            SettlementStatus::Cancelled => "cancelled",
        }
    }

    pub fn from_code(code: &str) -> Option<SettlementStatus> {
        match code {
            "settled" => Some(SettlementStatus::Settled),
            "cancelled" => Some(SettlementStatus::Cancelled),
            _ => None,
        }
    }
}

/// A stored settlement: the scalar figures reconciliation sums, the full result as JSON, and the
/// policy version and inputs that produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementRecord {
    /// 结算ID `setl_id`.
    pub settlement_id: String,
    pub visit_id: String,
    pub person_no: String,
    pub institution: String,
    pub insurance: InsuranceType,
    pub medical_type: MedicalType,
    /// 清算类别 `clr_type` (11 门诊, 21 住院, 41 药店).
    pub clearing_type: String,
    pub settled_at: NaiveDateTime,
    /// The request `msgid` (`medins_setl_id`).
    pub msgid: String,
    /// `region/version` of the policy that produced it.
    pub policy_id: String,
    pub year: i32,
    pub total: Money,
    pub fund_total: Money,
    pub account_pay: Money,
    pub cash_pay: Money,
    pub status: SettlementStatus,
    /// When cancelled: when, and by which message.
    pub cancelled_at: Option<NaiveDateTime>,
    pub cancel_msgid: Option<String>,
    /// The `setlinfo`/`setldetail` output as answered, JSON.
    pub output_json: String,
    /// The inputs (person facts, year-to-date, account, visit) as JSON, to recompute it.
    pub inputs_json: String,
    /// The accumulator and account deltas applied, JSON.
    pub deltas_json: String,
    /// Paid from a bound family member's account (家庭共济); `account_pay` is the person's own.
    /// The payer is in `inputs_json`.
    pub mutual_aid_pay: Money,
}

/// One posting line in a fund's book (double entry: each posting's debits equal its credits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    /// The posting this line belongs to (a settlement or its reversal).
    pub posting_id: String,
    /// The fund's book: its `fund_pay_type` code (310100, 390100, 310200 personal accounts …).
    pub book: String,
    /// Account within the book, e.g. `medical_expense` or `payable_institution`.
    pub account: String,
    pub debit: Money,
    pub credit: Money,
    pub settlement_id: String,
    pub posted_at: NaiveDateTime,
}

/// A processed message, kept so that the same `msgid` replays the stored answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRecord {
    pub msgid: String,
    pub infno: String,
    pub institution: String,
    pub received_at: NaiveDateTime,
    /// The full response body as answered.
    pub response_json: String,
    /// SHA-256 of the request (its infno and input), so that a msgid reused for another request
    /// is told from a true retry. Empty for messages stored before digests were kept.
    pub request_digest: Vec<u8>,
}

/// One line of the audit log: every transaction, with citizen IDs and names masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub msgid: String,
    pub infno: String,
    pub institution: String,
    pub infcode: i32,
    pub duration_us: i64,
    pub at: NaiveDateTime,
    /// The error message, masked, or empty.
    pub message: String,
}

/// A chronic or special outpatient disease filing (门诊慢特病备案, 2503).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChronicFilingRecord {
    pub filing_id: String,
    pub person_no: String,
    pub disease_code: String,
    pub disease_name: String,
    pub institution: String,
    pub begin_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub active: bool,
}

/// A settlement list (医疗保障基金结算清单, 4101) with the DRG group it was placed in. One list per
/// settlement: a re-upload replaces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementListRecord {
    pub settlement_id: String,
    pub visit_id: String,
    pub person_no: String,
    pub institution: String,
    /// The patient's scheme, from the settlement.
    pub insurance: InsuranceType,
    pub discharge_date: NaiveDate,
    /// The grouping scheme version, e.g. `CHS-DRG-1.1` (a [`ReferenceTableRecord::version`]).
    pub drg_version: String,
    /// The DRG (`FM19`), or the ungroupable outcomes `0000` / `xQY`.
    pub drg: String,
    /// The case's cost and its item-based fund payment, copied from the settlement at upload
    /// so that the annual settlement reads one table.
    pub total: Money,
    pub fund_total: Money,
    /// The grouping with its steps, as JSON.
    pub grouping_json: String,
    /// The list as uploaded (normalised), as JSON.
    pub list_json: String,
    pub uploaded_at: NaiveDateTime,
    pub msgid: String,
}

/// A reference table set imported by an operator (`yibao drg import`): one version of a
/// published table set, kept as its files' texts (JSON object `{file name: text}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferenceTableRecord {
    /// What the set is, e.g. `chs-drg`.
    pub kind: String,
    /// Its version, e.g. `CHS-DRG-1.1`.
    pub version: String,
    pub imported_at: NaiveDateTime,
    pub files_json: String,
}

/// A file exchanged with an institution through 9101 文件上传 / 9102 文件下载: one it uploaded
/// (a 表200 for 3202) or one the platform produced for it (a 表201 answer, a catalog download).
/// Only the institution it belongs to may download it, until `expires_at` (`dld_endtime`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeFileRecord {
    /// 文件查询号 `file_qury_no` (30).
    pub file_no: String,
    pub institution: String,
    pub filename: String,
    /// `upload`, `reconciliation` or `catalog`.
    pub origin: String,
    pub bytes: Vec<u8>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A supervision finding (智能监控): a warning answered by 3101 事前 or 3102 事中 (its id is
/// the `jr_id`, fed back on by 3103), or a suspicion (疑点) of after-the-fact screening.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FindingRecord {
    pub finding_id: String,
    /// `3101`, `3102` or `screen`.
    pub origin: String,
    /// What makes two findings the same (screening: rule, visit, lines); a finding whose key is
    /// stored already is not stored again.
    pub dedupe_key: String,
    pub institution: String,
    /// 人员编号 (for 3101/3102: the HIS's `patn_id`).
    pub person_no: String,
    pub visit_id: String,
    pub rule_id: String,
    /// 明确违规 / 可疑.
    pub severity: String,
    /// `refuse`, `warn` or `screen`.
    pub action: String,
    /// The amount at stake (`vola_amt`).
    pub amount: Money,
    pub found_at: NaiveDateTime,
    /// What was found: text, basis, lines, as JSON.
    pub detail_json: String,
    /// 3103: `1` 继续执行, `2` 返回修改.
    pub feedback_way: Option<String>,
    pub feedback_reason: Option<String>,
    pub feedback_at: Option<NaiveDateTime>,
}

/// A supervision case (案件) as stored: the decision in force in columns, the history in
/// `record_json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseRecord {
    pub case_id: String,
    pub institution: String,
    /// `clue`, `review`, `dismissed`, `confirmed`.
    pub status: String,
    pub opened_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Steps taken; an upsert must carry one more than the stored row (or 1 for a new case).
    pub steps: i64,
    pub amount_at_stake: Money,
    pub recovery: Money,
    pub penalty: Money,
    pub doctor: Option<String>,
    pub doctor_points: i64,
    pub credit_points: i64,
    pub decided_at: Option<NaiveDateTime>,
    pub record_json: String,
    /// 暂停医保服务 until then, by the decision in force.
    pub suspended_until: Option<NaiveDateTime>,
}

/// What after-the-fact screening reads of a period: for each settlement in force made in it,
/// what the rules need and nothing else (the answer and deltas stay in the store).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScreeningSet {
    pub settlements: Vec<ScreenedSettlement>,
    /// The settlements' visits.
    pub visits: Vec<VisitRecord>,
    /// When each settled line was given: (settlement, line sn, time), refunds left out.
    pub line_times: Vec<(String, String, NaiveDateTime)>,
}

/// A settlement as screening reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScreenedSettlement {
    pub settlement_id: String,
    pub visit_id: String,
    pub person_no: String,
    pub institution: String,
    pub fund_total: Money,
    /// The inputs (person facts, visit and lines with any refusal), JSON.
    pub inputs_json: String,
}

/// The largest exchanged file the store keeps.
pub const EXCHANGE_FILE_BYTES_MAX: usize = 8 * 1024 * 1024;

/// An employer (参保单位), identified by its unified social credit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmployerRecord {
    pub credit_code: String,
    pub name: String,
    pub admdvs: String,
    pub registered_on: NaiveDate,
    /// The first unpaid month (`YYYYMM`) while the employer is in arrears (单位欠费).
    pub arrears_from: Option<i32>,
}

/// A person's enrolment: the columns a contribution run selects on and the whole enrolment
/// history as one JSON document (the enrolment domain's record of the person).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnrolmentRecord {
    /// The citizen ID: one enrolment per person in a region.
    pub certno: String,
    pub person_no: String,
    /// The current scheme (the latest relationship's).
    pub insurance: InsuranceType,
    /// `psn_insu_stas`: 1 正常参保, 2 暂停, 4 终止.
    pub status: String,
    /// The first day of the current status.
    pub status_from: NaiveDate,
    /// The enrolment domain's person kind (`in_service`, `retired`, `flexible`, `student`, …):
    /// what a contribution run charges.
    pub person_kind: String,
    /// The employer's credit code, for employees.
    pub employer: Option<String>,
    /// The declared monthly wage (缴费工资) contributions are computed from, for employees.
    pub wage_base: Option<Money>,
    pub doc_json: String,
    pub updated_at: NaiveDateTime,
}

/// A person a monthly run may charge: the enrolment's columns, and its history only when the
/// status changed after the month began (or is not 正常参保), for the run to decide by the
/// status during the month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunCandidate {
    pub person_no: String,
    pub status: String,
    pub status_from: NaiveDate,
    pub person_kind: String,
    pub employer: Option<String>,
    pub wage_base: Option<Money>,
    pub doc_json: Option<String>,
    /// The person's account balance as stored.
    pub account_balance: Money,
}

/// A monthly contribution run (月度核定), done once per scheme and month.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionRunRecord {
    pub run_id: String,
    pub insurance: InsuranceType,
    /// `YYYYMM`.
    pub period: i32,
    pub persons: i64,
    pub employer_amount: Money,
    pub individual_amount: Money,
    pub pooled_amount: Money,
    pub account_amount: Money,
    pub run_at: NaiveDateTime,
}

/// One contribution (缴费) charged by a run or recorded one by one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContributionRecord {
    pub contribution_id: String,
    pub run_id: String,
    pub person_no: String,
    pub employer: Option<String>,
    pub insurance: InsuranceType,
    /// `YYYYMM` for monthly contributions, `YYYY00` for an annual one.
    pub period: i32,
    /// What was charged: `employee`, `retiree`, `flexible`, `resident`, `sponsored`.
    pub kind: String,
    pub base: Money,
    pub employer_amount: Money,
    pub individual_amount: Money,
    /// The part that goes to the pooled fund.
    pub pooled_amount: Money,
    /// The part credited to the personal account.
    pub account_amount: Money,
    /// Fiscal subsidy (residents).
    pub subsidy_amount: Money,
    /// The large-expense (330) premium charged with an employee's contribution.
    pub large_expense_amount: Money,
    pub posted_at: NaiveDateTime,
}

/// One movement of a personal account. `amount` is signed: credits positive, payments negative.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountEntryRecord {
    pub entry_id: String,
    pub person_no: String,
    pub posted_at: NaiveDateTime,
    /// `credit`, `payment`, `reversal`, `family_payment` (paid for a bound family member),
    /// `transfer_out`, `transfer_in`.
    pub kind: String,
    pub amount: Money,
    pub balance_after: Money,
    /// The business record: a contribution, a settlement, a transfer.
    pub reference: String,
    /// The family member a family payment was for.
    pub counterparty: Option<String>,
}

/// A closed accounting period (结账). Its closing entries are kept with it (see
/// [`WriteOp::ClosePeriod`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeriodCloseRecord {
    /// `2026-03` for a month, `2026` for a year.
    pub period: String,
    /// The last month the close covers, `YYYYMM`.
    pub through_month: i32,
    /// The first day still open: business ledger entries dated before it are refused.
    pub open_from: NaiveDate,
    pub closed_at: NaiveDateTime,
    /// What the close reported (each book's income, expense and the amount carried), JSON.
    pub summary_json: String,
}

/// Debits and credits of one account of one book in one month, as kept beside the entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerTotal {
    pub book: String,
    pub account: String,
    /// `YYYYMM`.
    pub period: i32,
    pub debit: Money,
    pub credit: Money,
}

/// One write. A batch of writes is applied in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteOp {
    UpsertInstitution(InstitutionRecord),
    UpsertPerson(PersonRecord),
    /// Sets a person's account balance (after a settlement or reversal).
    SetAccountBalance {
        person_no: String,
        balance: Money,
    },
    InsertVisit(VisitRecord),
    /// Replaces the visit row (status, times, codes).
    UpdateVisit(VisitRecord),
    InsertFeeLines(Vec<FeeLineRecord>),
    /// Deletes unsettled lines of a visit: all of them (`sn = None`) or one.
    DeleteFeeLines {
        visit_id: String,
        sn: Option<String>,
    },
    /// Marks lines as covered by a settlement (or frees them with `None` on cancellation).
    MarkFeeLinesSettled {
        visit_id: String,
        settlement_id: Option<String>,
        sns: Vec<String>,
    },
    InsertSettlement(SettlementRecord),
    CancelSettlement {
        settlement_id: String,
        cancelled_at: NaiveDateTime,
        cancel_msgid: String,
    },
    /// Sets a person's accumulator for one year and key to this value.
    SetAccumulator {
        person_no: String,
        year: i32,
        key: String,
        value: Accumulator,
    },
    InsertLedger(Vec<LedgerEntry>),
    InsertMessage(MessageRecord),
    InsertAudit(AuditRecord),
    UpsertChronicFiling(ChronicFilingRecord),
    UpsertSettlementList(SettlementListRecord),
    UpsertReferenceTable(ReferenceTableRecord),
    UpsertEmployer(EmployerRecord),
    UpsertEnrolment(EnrolmentRecord),
    InsertContributions(Vec<ContributionRecord>),
    InsertContributionRun(ContributionRunRecord),
    InsertAccountEntries(Vec<AccountEntryRecord>),
    /// Closes a period: records it and inserts its closing entries (which, unlike
    /// `InsertLedger`'s, do not add to the per-month totals). A period closes once; after it,
    /// business entries dated before `open_from` are refused.
    ClosePeriod {
        close: PeriodCloseRecord,
        entries: Vec<LedgerEntry>,
    },
    /// Keeps an exchanged file; files expired before its `created_at` are removed in the same
    /// write, so the table holds only files that can still be downloaded.
    InsertExchangeFile(ExchangeFileRecord),
    /// Keeps supervision findings; one whose `dedupe_key` is stored already is skipped.
    InsertFindings(Vec<FindingRecord>),
    /// Writes a case: a new one (`steps` 1) or the next step of a stored one (`steps` one more
    /// than stored); anything else is refused, so two writers cannot both decide a case.
    UpsertCase(CaseRecord),
    /// 3103: the HIS's decision on a warning. The finding must exist.
    SetFindingFeedback {
        finding_id: String,
        way: String,
        reason: Option<String>,
        at: NaiveDateTime,
    },
}

/// Writes that become durable together.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteBatch {
    pub ops: Vec<WriteOp>,
}

impl WriteBatch {
    pub fn push(&mut self, op: WriteOp) {
        self.ops.push(op);
    }
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
    pub fn len(&self) -> usize {
        self.ops.len()
    }
}

/// Totals of settlements for reconciliation (3201).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SettlementTotals {
    pub count: i64,
    pub total: Money,
    pub fund_total: Money,
    pub account_pay: Money,
    pub cash_pay: Money,
    /// Paid from a bound family member's account.
    pub mutual_aid_pay: Money,
}

/// Which settlements a reconciliation covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettlementFilter {
    pub institution: String,
    pub insurance: Option<InsuranceType>,
    pub clearing_type: Option<String>,
    /// Inclusive dates of `settled_at`.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only settlements in force (`true`) or every settlement, cancelled ones included.
    pub in_force_only: bool,
}
