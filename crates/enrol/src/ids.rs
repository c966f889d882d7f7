//! Who is insured and by whom: persons, employers, regions, person kinds and special groups.
//!
//! A person is keyed by the citizen ID because that is the key the national duplicate-enrolment
//! check uses; sex and birth date are derived from it, never typed in separately, so they cannot
//! disagree with it.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use yibao_codes::{CitizenId, PersonCategory, Sex, SpecialGroup};

use crate::credit_code::CreditCode;

/// Digits in an administrative division code (医保区划).
pub const REGION_CODE_LEN: usize = 6;
/// The longest name of a person or employer accepted from outside, in characters.
pub const NAME_CHARS_MAX: usize = 200;

/// A pooling region's 6-digit administrative division (统筹地区 / 医保区划).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

impl RegionCode {
    pub fn parse(text: &str) -> Result<RegionCode, IdError> {
        let text = text.trim();
        if text.len() == REGION_CODE_LEN && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(RegionCode(text.to_owned()))
        } else {
            Err(IdError::Region {
                value: text.chars().take(40).collect(),
            })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a policy written for `self` applies in `other`: the same code, or a province
    /// (`450000`) or city (`450100`) containing it.
    pub fn covers(&self, other: &RegionCode) -> bool {
        let significant = if self.0.ends_with("0000") {
            2
        } else if self.0.ends_with("00") {
            4
        } else {
            6
        };
        self.0[..significant] == other.0[..significant]
    }
}

impl TryFrom<String> for RegionCode {
    type Error = IdError;
    fn try_from(text: String) -> Result<RegionCode, IdError> {
        RegionCode::parse(&text)
    }
}

impl From<RegionCode> for String {
    fn from(code: RegionCode) -> String {
        code.0
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.0)
    }
}

/// Why an identifier or a name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("医保区划“{value}”应为6位数字")]
    Region { value: String },
    #[error("{what}不能为空,且不超过200个字符")]
    Name { what: &'static str },
    #[error(transparent)]
    CitizenId(#[from] yibao_codes::CodeError),
    #[error(transparent)]
    CreditCode(#[from] crate::credit_code::CreditCodeError),
}

fn check_name(name: &str, what: &'static str) -> Result<String, IdError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > NAME_CHARS_MAX || name.chars().any(char::is_control) {
        return Err(IdError::Name { what });
    }
    Ok(name.to_owned())
}

/// A calendar month, the period of an employee contribution. Validated when read from outside
/// (years 1900–2200, months 1–12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawYearMonth")]
pub struct YearMonth {
    pub year: i32,
    /// 1..=12.
    pub month: u32,
}

#[derive(Deserialize)]
struct RawYearMonth {
    year: i32,
    month: u32,
}

impl TryFrom<RawYearMonth> for YearMonth {
    type Error = String;
    fn try_from(raw: RawYearMonth) -> Result<YearMonth, String> {
        YearMonth::new(raw.year, raw.month).ok_or_else(|| format!("月份{}-{}无效", raw.year, raw.month))
    }
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        ((1..=12).contains(&month) && (1900..=2200).contains(&year)).then_some(YearMonth { year, month })
    }

    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("validated month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("within the calendar")
    }

    pub fn next(self) -> YearMonth {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }

    /// Months from `self` to `later` (0 for the same month, negative if `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i64 {
        i64::from(later.year - self.year) * 12 + i64::from(later.month) - i64::from(self.month)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:02}", self.year, self.month)
    }
}

/// Serde for `CitizenId` (the codes crate keeps it serde-free): the 18 characters as a string,
/// validated on the way in.
pub mod citizen_id_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use yibao_codes::CitizenId;

    pub fn serialize<S: Serializer>(id: &CitizenId, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(id.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<CitizenId, D::Error> {
        let text = String::deserialize(d)?;
        CitizenId::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An insured person. Sex and birth date come from the citizen ID.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    #[serde(with = "citizen_id_serde")]
    pub id: CitizenId,
    pub name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
}

impl Person {
    pub fn new(citizen_id: &str, name: &str) -> Result<Person, IdError> {
        let id = CitizenId::parse(citizen_id)?;
        Ok(Person {
            id,
            name: check_name(name, "姓名")?,
            sex: id.sex(),
            birth_date: id.birth_date().expect("validated by CitizenId::parse"),
        })
    }

    /// Age in whole years on `date`.
    pub fn age_years_on(&self, date: NaiveDate) -> u32 {
        date.years_since(self.birth_date).unwrap_or(0)
    }
}

/// An employer (参保单位).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Employer {
    pub credit_code: CreditCode,
    pub name: String,
    pub region: RegionCode,
}

impl Employer {
    pub fn new(credit_code: &str, name: &str, region: &str) -> Result<Employer, IdError> {
        Ok(Employer {
            credit_code: CreditCode::parse(credit_code)?,
            name: check_name(name, "单位名称")?,
            region: RegionCode::parse(region)?,
        })
    }
}

/// What kind of insured person someone is in a relationship; decides how they contribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// 在职职工: employer and individual contributions on a wage base.
    InService,
    /// 退休人员: pay nothing, receive a fixed personal-account credit.
    Retired,
    /// 灵活就业人员: the whole contribution on a chosen base.
    Flexible,
    /// 学生 (resident).
    Student,
    /// 少儿 (resident, below school age).
    Child,
    /// 成年居民.
    AdultResident,
    /// 老年居民 (resident, 60 and over).
    Elderly,
}

impl PersonKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            PersonKind::InService => "在职职工",
            PersonKind::Retired => "退休人员",
            PersonKind::Flexible => "灵活就业人员",
            PersonKind::Student => "学生",
            PersonKind::Child => "少儿",
            PersonKind::AdultResident => "成年居民",
            PersonKind::Elderly => "老年居民",
        }
    }

    /// Kinds that belong in employee insurance (310) rather than resident insurance (390).
    pub fn is_employee(self) -> bool {
        matches!(self, PersonKind::InService | PersonKind::Retired | PersonKind::Flexible)
    }

    /// The national person category benefit rules name (flexible workers are in-service).
    pub fn category(self) -> PersonCategory {
        match self {
            PersonKind::InService | PersonKind::Flexible => PersonCategory::InService,
            PersonKind::Retired => PersonCategory::Retired,
            PersonKind::Student | PersonKind::Child => PersonCategory::Minor,
            PersonKind::AdultResident => PersonCategory::AdultResident,
            PersonKind::Elderly => PersonCategory::ElderlyResident,
        }
    }
}

/// A special-group membership (特殊人群身份) with its effective dates, as the civil-affairs or
/// rural-revitalisation department certified it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMembership {
    pub group: SpecialGroup,
    pub from: NaiveDate,
    /// Last day of membership, inclusive; `None` while it lasts.
    pub to: Option<NaiveDate>,
}

impl GroupMembership {
    pub fn is_active_on(&self, date: NaiveDate) -> bool {
        self.from <= date && self.to.is_none_or(|to| date <= to)
    }
}
