//! The eight funds' books. A book's stored name is its fund's `fund_pay_type` code, the string the
//! platform already writes in `ledger_entry.book`, so settlement postings made before this crate
//! existed read back into the right book.

use std::fmt;

use yibao_codes::FundPayType;

use crate::account::Account;
use crate::error::BooksError;

/// How many books there are; arrays indexed by [`Book::index`] have this length.
pub const BOOK_COUNT: usize = 8;

/// One fund's book (分账核算: each fund keeps its own books).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Book {
    /// 职工基本医疗保险统筹基金, 310100.
    EmployeePooled = 0,
    /// 职工基本医疗保险个人账户基金, 310200.
    PersonalAccount = 1,
    /// 城乡居民基本医疗保险基金, 390100.
    ResidentPooled = 2,
    /// 城乡居民大病医疗保险基金, 390200.
    CriticalIllness = 3,
    /// 大额医疗费用补助基金, 330100.
    LargeExpense = 4,
    /// 公务员医疗补助基金, 320100.
    CivilServant = 5,
    /// 医疗救助基金, 610100.
    MedicalAssistance = 6,
    /// 生育基金, 510100.
    Maternity = 7,
}

impl Book {
    pub const ALL: [Book; BOOK_COUNT] = [
        Book::EmployeePooled,
        Book::PersonalAccount,
        Book::ResidentPooled,
        Book::CriticalIllness,
        Book::LargeExpense,
        Book::CivilServant,
        Book::MedicalAssistance,
        Book::Maternity,
    ];

    /// Position in [`Book::ALL`], for arrays of per-book figures.
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The fund whose book this is.
    pub fn fund_pay_type(self) -> FundPayType {
        match self {
            Book::EmployeePooled => FundPayType::EmployeePooled,
            Book::PersonalAccount => FundPayType::EmployeeAccount,
            Book::ResidentPooled => FundPayType::ResidentPooled,
            Book::CriticalIllness => FundPayType::ResidentCriticalIllness,
            Book::LargeExpense => FundPayType::LargeExpense,
            Book::CivilServant => FundPayType::CivilServant,
            Book::MedicalAssistance => FundPayType::MedicalAssistance,
            Book::Maternity => FundPayType::Maternity,
        }
    }

    /// The stored name: the fund's `fund_pay_type` code ("310100").
    pub fn code(self) -> &'static str {
        self.fund_pay_type().code()
    }

    /// The fund's name in the national dictionary.
    pub fn name_zh(self) -> &'static str {
        self.fund_pay_type().name_zh()
    }

    /// The name bureaus use in reports and warnings ("职工医保统筹基金").
    pub fn short_name_zh(self) -> &'static str {
        match self {
            Book::EmployeePooled => "职工医保统筹基金",
            Book::PersonalAccount => "职工医保个人账户",
            Book::ResidentPooled => "居民医保基金",
            Book::CriticalIllness => "居民大病保险资金",
            Book::LargeExpense => "大额医疗费用补助资金",
            Book::CivilServant => "公务员医疗补助资金",
            Book::MedicalAssistance => "医疗救助基金",
            Book::Maternity => "生育保险基金",
        }
    }

    /// The book a fund's payments are posted to. Sub-funds without a book of their own post to
    /// their parent: 医疗再救助/健康扶贫/精准脱贫 (6101xx) to medical assistance, 职工生育 (310103) to
    /// maternity. Funds outside the eight (离休, 残疾军人, 企业补充, 垫付, 其他) have no book here.
    pub fn for_fund_pay_type(fund: FundPayType) -> Option<Book> {
        use FundPayType as F;
        Some(match fund {
            F::EmployeePooled => Book::EmployeePooled,
            F::EmployeeAccount => Book::PersonalAccount,
            F::ResidentPooled => Book::ResidentPooled,
            F::ResidentCriticalIllness => Book::CriticalIllness,
            F::LargeExpense => Book::LargeExpense,
            F::CivilServant => Book::CivilServant,
            F::MedicalAssistance | F::MedicalReassistance | F::PovertyHealth | F::TargetedPoverty => {
                Book::MedicalAssistance
            }
            F::Maternity | F::EmployeeMaternity => Book::Maternity,
            F::RetiredCadre | F::DisabledVeteran | F::EnterpriseSupplementary | F::HospitalAdvance | F::Other => {
                return None
            }
        })
    }

    /// Reads a stored book name: a `fund_pay_type` code (sub-fund codes read into their parent
    /// book, see [`Book::for_fund_pay_type`]).
    pub fn from_code(code: &str) -> Result<Book, BooksError> {
        let unknown = || BooksError::UnknownBook {
            code: code.chars().take(40).collect(),
        };
        let fund = FundPayType::parse(code).map_err(|_| unknown())?;
        Book::for_fund_pay_type(fund).ok_or_else(unknown)
    }

    /// Whether this book's chart of accounts has `account`. Every book has the bank, payable,
    /// interest, transfer, benefit-expense and fund-balance accounts; contribution and subsidy
    /// accounts only where the fund is financed that way: residents and critical illness have no
    /// employer contributions, maternity no individual ones, medical assistance only fiscal
    /// money, personal accounts no fiscal subsidy.
    pub fn uses(self, account: Account) -> bool {
        use Account as A;
        match account {
            A::BankDeposit
            | A::PayableInstitution
            | A::InterestIncome
            | A::TransferIncome
            | A::MedicalExpense
            | A::TransferExpense
            | A::FundBalance => true,
            A::EmployerContributionIncome => matches!(
                self,
                Book::EmployeePooled
                    | Book::PersonalAccount
                    | Book::LargeExpense
                    | Book::CivilServant
                    | Book::Maternity
            ),
            A::IndividualContributionIncome => !matches!(self, Book::Maternity | Book::MedicalAssistance),
            A::FiscalReceivable | A::FiscalSubsidyIncome => self != Book::PersonalAccount,
        }
    }

    /// This book's chart of accounts, in [`Account::ALL`] order.
    pub fn chart(self) -> impl Iterator<Item = Account> {
        Account::ALL.into_iter().filter(move |&account| self.uses(account))
    }
}

impl fmt::Display for Book {
    /// The stored name (the code); use [`Book::name_zh`] for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_fund_pay_types_the_platform_posts_under() {
        let codes: Vec<&str> = Book::ALL.iter().map(|b| b.code()).collect();
        assert_eq!(
            codes,
            ["310100", "310200", "390100", "390200", "330100", "320100", "610100", "510100"]
        );
        for book in Book::ALL {
            assert_eq!(Book::from_code(book.code()), Ok(book));
            assert_eq!(Book::ALL[book.index()], book);
        }
        assert_eq!(Book::from_code("610102"), Ok(Book::MedicalAssistance));
        assert_eq!(Book::from_code("310103"), Ok(Book::Maternity));
        assert!(Book::from_code("340100").is_err());
        assert!(Book::from_code("x").is_err());
    }

    #[test]
    fn every_book_has_the_accounts_settlements_post_to() {
        for book in Book::ALL {
            assert!(book.uses(Account::MedicalExpense) && book.uses(Account::PayableInstitution));
            assert!(book.uses(Account::BankDeposit) && book.uses(Account::FundBalance));
        }
    }
}
