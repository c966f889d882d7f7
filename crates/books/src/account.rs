//! The chart of accounts (会计科目). One chart serves every book ([`crate::Book::uses`] narrows
//! it per fund); ids are stable snake_case strings because they are stored, and the two the
//! platform already writes (`medical_expense`, `payable_institution`) keep their spelling.

use std::fmt;

use crate::entry::Side;
use crate::error::BooksError;

/// How many accounts there are; arrays indexed by [`Account::index`] have this length.
pub const ACCOUNT_COUNT: usize = 11;

/// What an account is, which decides its normal side and what period close does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AccountClass {
    /// 资产: debit-normal.
    Asset,
    /// 负债: credit-normal.
    Liability,
    /// 净资产 (基金结余): credit-normal; receives the income and expense at close.
    Equity,
    /// 收入: credit-normal; closed into fund balance.
    Income,
    /// 支出: debit-normal; closed into fund balance.
    Expense,
}

impl AccountClass {
    /// The side on which an account of this class grows.
    pub fn normal_side(self) -> Side {
        match self {
            AccountClass::Asset | AccountClass::Expense => Side::Debit,
            AccountClass::Liability | AccountClass::Equity | AccountClass::Income => Side::Credit,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            AccountClass::Asset => "资产",
            AccountClass::Liability => "负债",
            AccountClass::Equity => "净资产",
            AccountClass::Income => "收入",
            AccountClass::Expense => "支出",
        }
    }
}

/// One account of a fund's book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Account {
    /// 银行存款 (收入户、支出户、财政专户 together).
    BankDeposit = 0,
    /// 财政补助应收: subsidies due from a government level but not yet received.
    FiscalReceivable = 1,
    /// 应付定点医药机构款: settled benefits owed to designated institutions until cleared.
    PayableInstitution = 2,
    /// 单位缴费收入.
    EmployerContributionIncome = 3,
    /// 个人缴费收入.
    IndividualContributionIncome = 4,
    /// 财政补助收入.
    FiscalSubsidyIncome = 5,
    /// 利息收入.
    InterestIncome = 6,
    /// 转移收入: from another region or another fund.
    TransferIncome = 7,
    /// 医疗待遇支出 (the platform's `medical_expense`).
    MedicalExpense = 8,
    /// 转移支出: to another region or another fund.
    TransferExpense = 9,
    /// 基金结余: what period close carries income and expense into.
    FundBalance = 10,
}

impl Account {
    pub const ALL: [Account; ACCOUNT_COUNT] = [
        Account::BankDeposit,
        Account::FiscalReceivable,
        Account::PayableInstitution,
        Account::EmployerContributionIncome,
        Account::IndividualContributionIncome,
        Account::FiscalSubsidyIncome,
        Account::InterestIncome,
        Account::TransferIncome,
        Account::MedicalExpense,
        Account::TransferExpense,
        Account::FundBalance,
    ];

    /// Position in [`Account::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The stored id.
    pub fn id(self) -> &'static str {
        match self {
            Account::BankDeposit => "bank_deposit",
            Account::FiscalReceivable => "fiscal_receivable",
            Account::PayableInstitution => "payable_institution",
            Account::EmployerContributionIncome => "employer_contribution_income",
            Account::IndividualContributionIncome => "individual_contribution_income",
            Account::FiscalSubsidyIncome => "fiscal_subsidy_income",
            Account::InterestIncome => "interest_income",
            Account::TransferIncome => "transfer_income",
            Account::MedicalExpense => "medical_expense",
            Account::TransferExpense => "transfer_expense",
            Account::FundBalance => "fund_balance",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Account::BankDeposit => "银行存款",
            Account::FiscalReceivable => "财政补助应收",
            Account::PayableInstitution => "应付定点医药机构款",
            Account::EmployerContributionIncome => "单位缴费收入",
            Account::IndividualContributionIncome => "个人缴费收入",
            Account::FiscalSubsidyIncome => "财政补助收入",
            Account::InterestIncome => "利息收入",
            Account::TransferIncome => "转移收入",
            Account::MedicalExpense => "医疗待遇支出",
            Account::TransferExpense => "转移支出",
            Account::FundBalance => "基金结余",
        }
    }

    pub fn class(self) -> AccountClass {
        match self {
            Account::BankDeposit | Account::FiscalReceivable => AccountClass::Asset,
            Account::PayableInstitution => AccountClass::Liability,
            Account::EmployerContributionIncome
            | Account::IndividualContributionIncome
            | Account::FiscalSubsidyIncome
            | Account::InterestIncome
            | Account::TransferIncome => AccountClass::Income,
            Account::MedicalExpense | Account::TransferExpense => AccountClass::Expense,
            Account::FundBalance => AccountClass::Equity,
        }
    }

    /// Whether only transfers (between regions or funds) may post to this account.
    pub fn is_transfer(self) -> bool {
        matches!(self, Account::TransferIncome | Account::TransferExpense)
    }

    /// Reads a stored id.
    pub fn from_id(id: &str) -> Result<Account, BooksError> {
        Account::ALL
            .into_iter()
            .find(|a| a.id() == id)
            .ok_or_else(|| BooksError::UnknownAccount {
                id: id.chars().take(40).collect(),
            })
    }
}

impl fmt::Display for Account {
    /// The stored id; use [`Account::name_zh`] for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_the_platforms_two() {
        for account in Account::ALL {
            assert_eq!(Account::from_id(account.id()), Ok(account));
            assert_eq!(Account::ALL[account.index()], account);
        }
        assert_eq!(Account::MedicalExpense.id(), "medical_expense");
        assert_eq!(Account::PayableInstitution.id(), "payable_institution");
        assert!(Account::from_id("cash").is_err());
    }
}
