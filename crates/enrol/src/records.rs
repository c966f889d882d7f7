//! The records enrolment keeps per person: insurance relationships with their status history,
//! special-group memberships and contributions. Plain serde structs, so a store can persist them
//! as they are and hand them back to the pure operations in `commands`.
//!
//! A relationship's history is a list of dated periods (enrolled and paying, suspended,
//! terminated); a day outside every period is a day without insurance (a lapse). Each enrolled
//! period carries the day from which the funds pay for it, so a waiting period belongs to the
//! re-enrolment that caused it, not to the relationship forever.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yibao_codes::{InsuranceType, SpecialGroup, Tier};
use yibao_money::Money;

use crate::account::FamilyBinding;
use crate::credit_code::CreditCode;
use crate::ids::{GroupMembership, Person, PersonKind, RegionCode, YearMonth};
use crate::waiting::WaitingDecision;

/// The most relationships one person may have (a working life of job changes and transfers).
pub const RELATIONSHIPS_PER_PERSON_MAX: usize = 256;
/// The most status periods one relationship may have.
pub const PERIODS_PER_RELATIONSHIP_MAX: usize = 1024;
/// The most contribution records one person may have (a century of monthly payments).
pub const CONTRIBUTIONS_PER_PERSON_MAX: usize = 1200 + 600;
/// The most special-group memberships one person may have.
pub const GROUPS_PER_PERSON_MAX: usize = 128;
/// The longest free-text reason accepted, in characters.
pub const REASON_CHARS_MAX: usize = 200;

/// A relationship's status in a period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 参保缴费: enrolled and paying.
    Enrolled,
    /// 暂停参保 (停保): contributions stopped; no benefits until resumed.
    Suspended,
    /// 终止参保: closed for good (left, died, transferred out).
    Terminated,
}

impl Status {
    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Enrolled => "参保缴费",
            Status::Suspended => "暂停参保",
            Status::Terminated => "终止参保",
        }
    }
}

/// One dated period of a relationship's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusPeriod {
    pub status: Status,
    pub from: NaiveDate,
    /// Last day, inclusive; `None` while open.
    pub to: Option<NaiveDate>,
    /// For enrolled periods: the first day the funds pay (after any waiting period).
    pub benefits_from: Option<NaiveDate>,
    /// For resident enrolled periods: how the waiting period was decided.
    pub waiting: Option<WaitingDecision>,
    pub reason: String,
}

impl StatusPeriod {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }

    /// Whether the period shares a day with `[from, to]`.
    pub fn overlaps(&self, from: NaiveDate, to: Option<NaiveDate>) -> bool {
        let self_end = self.to.unwrap_or(NaiveDate::MAX);
        let end = to.unwrap_or(NaiveDate::MAX);
        self.from <= end && from <= self_end
    }
}

/// Where a transferred relationship came from (转移接续).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSource {
    pub region: RegionCode,
    pub relationship: u32,
    pub transferred_on: NaiveDate,
}

/// An insurance relationship (参保关系): one insurance type in one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relationship {
    /// Number within the person, from 1.
    pub no: u32,
    pub insurance: InsuranceType,
    pub region: RegionCode,
    pub employer: Option<CreditCode>,
    pub kind: PersonKind,
    /// Resident contribution tier.
    pub tier: Option<Tier>,
    /// The kind of county that shares the resident subsidy (see the policy's `local_split`).
    pub county_class: Option<String>,
    /// Periods in date order, not overlapping.
    pub history: Vec<StatusPeriod>,
    /// Contribution months carried in by transfers (累计缴费月数).
    pub carried_months: u32,
    pub transferred_from: Option<TransferSource>,
    pub transferred_to: Option<RegionCode>,
}

impl Relationship {
    pub fn period_on(&self, date: NaiveDate) -> Option<&StatusPeriod> {
        self.history.iter().find(|p| p.contains(date))
    }

    pub fn status_on(&self, date: NaiveDate) -> Option<Status> {
        self.period_on(date).map(|p| p.status)
    }

    pub fn is_enrolled_on(&self, date: NaiveDate) -> bool {
        self.status_on(date) == Some(Status::Enrolled)
    }

    pub fn started_on(&self) -> Option<NaiveDate> {
        self.history.first().map(|p| p.from)
    }

    pub fn enrolled_periods(&self) -> impl Iterator<Item = &StatusPeriod> {
        self.history.iter().filter(|p| p.status == Status::Enrolled)
    }

    pub fn is_terminated(&self) -> bool {
        self.history.last().is_some_and(|p| p.status == Status::Terminated)
    }
}

/// Why a contribution was paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContributionPurpose {
    /// The period's regular contribution.
    Regular,
    /// Paying for lapsed years to shorten the variable waiting period (缴费修复).
    LapseRepair,
}

/// A contribution paid for a relationship, covering whole months.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContributionRecord {
    pub relationship: u32,
    pub first_month: YearMonth,
    pub last_month: YearMonth,
    /// The person's (or sponsor's) part.
    pub individual_amount: Money,
    pub employer_amount: Money,
    pub paid_on: NaiveDate,
    pub purpose: ContributionPurpose,
}

impl ContributionRecord {
    pub fn months(&self) -> u32 {
        u32::try_from(self.first_month.months_until(self.last_month) + 1).unwrap_or(0)
    }
}

/// Everything enrolment knows about one person: what the store loads before an operation and
/// writes back after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRecords {
    pub person: Person,
    pub relationships: Vec<Relationship>,
    pub groups: Vec<GroupMembership>,
    pub contributions: Vec<ContributionRecord>,
    /// Family members this person's account pays for (家庭共济), with their dates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub family: Vec<FamilyBinding>,
}

impl PersonRecords {
    pub fn new(person: Person) -> PersonRecords {
        PersonRecords {
            person,
            relationships: Vec::new(),
            groups: Vec::new(),
            contributions: Vec::new(),
            family: Vec::new(),
        }
    }

    /// The family members bound on `date`.
    pub fn family_on(&self, date: NaiveDate) -> impl Iterator<Item = &FamilyBinding> {
        self.family.iter().filter(move |b| b.is_active_on(date))
    }

    pub fn relationship(&self, no: u32) -> Option<&Relationship> {
        self.relationships.iter().find(|r| r.no == no)
    }

    pub(crate) fn relationship_mut(&mut self, no: u32) -> Option<&mut Relationship> {
        self.relationships.iter_mut().find(|r| r.no == no)
    }

    /// Special groups the person belongs to on `date`.
    pub fn groups_on(&self, date: NaiveDate) -> Vec<SpecialGroup> {
        let mut groups: Vec<SpecialGroup> = self
            .groups
            .iter()
            .filter(|m| m.is_active_on(date))
            .map(|m| m.group)
            .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// Months paid for a relationship itself (not carried in).
    pub fn paid_months(&self, relationship: u32) -> u32 {
        self.contributions
            .iter()
            .filter(|c| c.relationship == relationship && c.purpose == ContributionPurpose::Regular)
            .map(ContributionRecord::months)
            .sum()
    }

    /// Cumulative contribution months of a relationship: carried in by transfers plus paid here
    /// (累计缴费年限, used e.g. for the minimum years before retirement benefits).
    pub fn cumulative_months(&self, relationship: u32) -> u32 {
        self.relationship(relationship)
            .map_or(0, |r| r.carried_months + self.paid_months(relationship))
    }

    /// The last month a relationship's regular contributions cover.
    pub fn paid_through(&self, relationship: u32) -> Option<YearMonth> {
        self.contributions
            .iter()
            .filter(|c| c.relationship == relationship && c.purpose == ContributionPurpose::Regular)
            .map(|c| c.last_month)
            .max()
    }
}

/// The relationship an enrolment conflicts with, named in the refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictingRecord {
    pub relationship: u32,
    pub insurance: InsuranceType,
    pub region: RegionCode,
    pub status: Status,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl fmt::Display for ConflictingRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = self.to.map_or_else(|| "至今".to_owned(), |to| format!("至{to}"));
        write!(
            f,
            "参保关系{}:{}在{}参加{}({}{})",
            self.relationship,
            self.from,
            self.region,
            self.insurance.name_zh(),
            self.status.name_zh(),
            to
        )
    }
}
