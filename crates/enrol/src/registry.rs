//! An in-memory registry: the pure operations of `commands` applied to a map of persons, with
//! the employer register. The store will do the same per person inside a database transaction;
//! tests, the demo and the CLI can use this directly.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use yibao_codes::CitizenId;

use crate::commands::{apply, Command, EnrolError, Enrolment, Event, TransferIn};
use crate::credit_code::CreditCode;
use crate::ids::{Employer, Person, RegionCode};
use crate::policy::ContributionPolicy;
use crate::records::PersonRecords;

/// Why a registry operation was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("未登记的参保人{0}")]
    UnknownPerson(String),
    #[error("参保人{0}已登记")]
    PersonExists(String),
    #[error("未登记的参保单位{0}")]
    UnknownEmployer(CreditCode),
    #[error("参保单位{0}已登记")]
    EmployerExists(CreditCode),
    #[error("参保单位{employer}登记在{employer_region},不能在{region}为职工参保")]
    EmployerRegion {
        employer: CreditCode,
        employer_region: RegionCode,
        region: RegionCode,
    },
    #[error(transparent)]
    Enrol(#[from] EnrolError),
}

#[derive(Clone, Debug, Default)]
pub struct Registry {
    persons: BTreeMap<CitizenId, PersonRecords>,
    employers: BTreeMap<CreditCode, Employer>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn register_employer(&mut self, employer: Employer) -> Result<(), RegistryError> {
        if self.employers.contains_key(&employer.credit_code) {
            return Err(RegistryError::EmployerExists(employer.credit_code));
        }
        self.employers.insert(employer.credit_code, employer);
        Ok(())
    }

    pub fn register_person(&mut self, person: Person) -> Result<(), RegistryError> {
        if self.persons.contains_key(&person.id) {
            return Err(RegistryError::PersonExists(person.id.masked()));
        }
        self.persons.insert(person.id, PersonRecords::new(person));
        Ok(())
    }

    pub fn records(&self, id: &CitizenId) -> Option<&PersonRecords> {
        self.persons.get(id)
    }

    pub fn employer(&self, code: &CreditCode) -> Option<&Employer> {
        self.employers.get(code)
    }

    /// Applies a command to one person; on refusal nothing changes.
    pub fn execute(
        &mut self,
        id: &CitizenId,
        command: &Command,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        let employer_region = match command {
            Command::Enrol(Enrolment {
                employer: Some(code),
                region,
                ..
            })
            | Command::TransferIn(TransferIn {
                employer: Some(code),
                region,
                ..
            }) => Some((*code, region)),
            _ => None,
        };
        if let Some((code, region)) = employer_region {
            let employer = self.employers.get(&code).ok_or(RegistryError::UnknownEmployer(code))?;
            if &employer.region != region {
                return Err(RegistryError::EmployerRegion {
                    employer: code,
                    employer_region: employer.region.clone(),
                    region: region.clone(),
                });
            }
        }
        let records = self
            .persons
            .get(id)
            .ok_or_else(|| RegistryError::UnknownPerson(id.masked()))?;
        let applied = apply(records, command, policy)?;
        self.persons.insert(*id, applied.records);
        Ok(applied.events)
    }

    pub fn enrol(
        &mut self,
        id: &CitizenId,
        enrolment: Enrolment,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        self.execute(id, &Command::Enrol(enrolment), policy)
    }

    pub fn suspend(
        &mut self,
        id: &CitizenId,
        relationship: u32,
        on: NaiveDate,
        reason: &str,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        let command = Command::Suspend {
            relationship,
            on,
            reason: reason.to_owned(),
        };
        self.execute(id, &command, policy)
    }

    pub fn terminate(
        &mut self,
        id: &CitizenId,
        relationship: u32,
        on: NaiveDate,
        reason: &str,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        let command = Command::Terminate {
            relationship,
            on,
            reason: reason.to_owned(),
        };
        self.execute(id, &command, policy)
    }

    pub fn transfer_out(
        &mut self,
        id: &CitizenId,
        relationship: u32,
        on: NaiveDate,
        to_region: RegionCode,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        let command = Command::TransferOut {
            relationship,
            on,
            to_region,
        };
        self.execute(id, &command, policy)
    }

    /// `policy` is the receiving region's.
    pub fn transfer_in(
        &mut self,
        id: &CitizenId,
        transfer: TransferIn,
        policy: &ContributionPolicy,
    ) -> Result<Vec<Event>, RegistryError> {
        self.execute(id, &Command::TransferIn(transfer), policy)
    }
}
