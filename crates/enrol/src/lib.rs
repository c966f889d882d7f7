//! Enrolment (参保): who is insured, where, in which scheme, since when and whether they paid;
//! what they and their employers owe (缴费), what the governments add (财政补助), when benefits
//! start (待遇等待期), and their personal accounts (个人账户).
//!
//! Pure domain code, like the catalog and the engine: no files, database, network or clock.
//! Each operation takes one person's records and a command and returns the new records or a
//! refusal (`commands::apply`), so the store can load a person, apply, and write in one
//! transaction. Money is exact (`yibao_money`, fen) and every rounding is named by the policy;
//! every rate and amount comes from the region's contribution policy file.
//!
//! Modules:
//! - `credit_code`: employers' unified social credit codes (GB 32100-2015).
//! - `ids`: persons (from the citizen ID), employers, regions, person kinds, special groups.
//! - `records`: relationships with their dated status history, contributions.
//! - `commands`: enrol, suspend, resume, terminate, transfer out/in, contributions, repair,
//!   special groups; duplicate-enrolment refusal; arrears suspension.
//! - `waiting`: waiting periods and `coverage_on`, the question settlement asks.
//! - `policy`: the contribution policy file.
//! - `contribution`: employee monthly and resident annual charges, subsidy split, sponsorship
//!   (the policy's fund-warning thresholds are applied by `yibao-books`).
//! - `account`: personal accounts with family mutual aid.
//! - `registry`: an in-memory registry over the pure operations.

pub mod account;
pub mod commands;
pub mod contribution;
pub mod credit_code;
pub mod ids;
pub mod policy;
pub mod records;
pub mod registry;
pub mod waiting;

pub use account::{AccountEntry, AccountError, EntryKind, FamilyBinding, FamilyRelation, PersonalAccount};
pub use commands::{
    apply, arrears_suspensions, arrears_suspensions_paid_through, Applied, Command, EnrolError, Enrolment, Event,
    EventKind, TransferIn,
};
pub use contribution::{
    contribution_base, employee_monthly, monthly_employee_run, resident_annual, run_totals, subsidy_split,
    ContributionCharge, ContributionError, EmployeeContributionInput, EmployeeKind, ResidentCharge,
    ResidentContributionInput, RunTotals, SubsidySplit,
};
pub use credit_code::{CreditCode, CreditCodeError};
pub use ids::{Employer, GroupMembership, IdError, Person, PersonKind, RegionCode, YearMonth};
pub use policy::{ContributionPolicy, GovernmentLevel, PolicyError};
pub use records::{
    ConflictingRecord, ContributionPurpose, ContributionRecord, PersonRecords, Relationship, Status, StatusPeriod,
};
pub use registry::{Registry, RegistryError};
pub use waiting::{
    coverage_on, decide_waiting, Covered, Exemption, NotCovered, WaitingBranch, WaitingDecision, WaitingFacts,
};
