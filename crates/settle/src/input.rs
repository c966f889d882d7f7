//! What a settlement is computed from: the person, the visit with its fee lines, and the
//! person's year-to-date accumulators. These are validated domain values; the edges (CLI, the
//! national interface) build them from their own wire formats.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use yibao_codes::{HospitalLevel, InsuranceType, MedicalType, PersonType, Sex, SpecialGroup, Tier};
use yibao_money::{Money, Price, Quantity};

/// The most fee lines one visit may carry. A long inpatient stay bills a few thousand lines; a
/// request with more is an error, not a workload.
pub const VISIT_LINES_MAX: usize = 20_000;
/// The longest stay a single settlement covers (a year and a day, for mid-stay settlements).
pub const STAY_DAYS_MAX: i64 = 366;
/// Identifiers and free-text codes from outside are at most this long.
pub const ID_LEN_MAX: usize = 64;
/// The most chronic-disease filings, or special-group memberships, one person can hold.
pub const PERSON_LIST_MAX: usize = 64;

/// The insured person as the engine needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub person_no: String,
    pub insurance: InsuranceType,
    pub person_type: PersonType,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    /// Resident contribution tier; `None` for employees.
    #[serde(default)]
    pub tier: Option<Tier>,
    #[serde(default)]
    pub groups: Vec<SpecialGroup>,
    /// 公务员 (civil-servant subsidy eligible).
    #[serde(default)]
    pub civil_servant: bool,
    /// Filed chronic and special outpatient diseases (门诊慢特病备案), and 两病 filings.
    #[serde(default)]
    pub chronic_diseases: Vec<String>,
    /// The first day the funds pay (the end of a waiting period); `None` when there is none.
    #[serde(default)]
    pub benefits_from: Option<NaiveDate>,
}

impl Person {
    /// Whole years of age on `date`.
    pub fn age_years_on(&self, date: NaiveDate) -> u16 {
        age_years(self.birth_date, date)
    }
}

/// Whole years between a birth date and `date` (0 before the first birthday).
pub fn age_years(birth_date: NaiveDate, date: NaiveDate) -> u16 {
    let mut years = date.year() - birth_date.year();
    if (date.month(), date.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    years.clamp(0, 200) as u16
}

/// One fee line (费用明细).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeLine {
    /// The HIS's line number (`feedetl_sn`), unique within the visit.
    pub sn: String,
    /// National catalog code (`med_list_codg`).
    pub code: String,
    pub quantity: Quantity,
    pub price: Price,
    /// The line total as billed; when given it must equal price × quantity rounded to the fen.
    #[serde(default)]
    pub amount: Option<Money>,
    /// The day the item was given; defaults to the visit's first day.
    #[serde(default)]
    pub date: Option<NaiveDate>,
    /// For chronic-disease visits: the filed disease this line treats.
    #[serde(default)]
    pub disease: Option<String>,
    /// What the region's supervision rules refuse of this line (智能监控 拒付): that amount
    /// moves to full self-pay and the rest is split as usual.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
}

/// A supervision rule's refusal of (part of) a line, as the platform's rule check found it.
/// Stored with the settlement's inputs, so a recompute refuses the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refusal {
    /// The rule's stable id (`drug_sex`).
    pub rule_id: String,
    /// The rule's name (`限性别用药`).
    pub rule_name: String,
    /// What was found (`男性患者不予支付: 艾附暖宫丸限女性使用`).
    pub text: String,
    /// The part of the line refused, at most the line's amount.
    pub amount: Money,
}

/// The longest refusal text accepted, in characters.
pub const REFUSAL_TEXT_CHARS_MAX: usize = 300;

/// A visit to settle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Visit {
    pub visit_id: String,
    pub medical_type: MedicalType,
    pub level: HospitalLevel,
    /// First day (admission, or the outpatient visit).
    pub begin_date: NaiveDate,
    /// Discharge day for inpatient stays.
    #[serde(default)]
    pub end_date: Option<NaiveDate>,
    /// Treated in the person's own county (本区县内): some tilts apply only there.
    #[serde(default)]
    pub in_county: bool,
    /// Referred through the referral procedure (转诊); unreferred visits may pay less.
    #[serde(default = "default_true")]
    pub referred: bool,
    /// Whether the person lets the personal account pay (`acct_used_flag`).
    #[serde(default = "default_true")]
    pub use_account: bool,
    pub lines: Vec<FeeLine>,
}

fn default_true() -> bool {
    true
}

/// Year-to-date totals of one accumulator (one stage or shared pool) for one insurance year.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Accumulator {
    /// Deductible counted so far.
    pub deductible: Money,
    /// Fund money paid so far.
    pub fund: Money,
    /// Spending taken into this stage's base so far.
    pub base: Money,
    pub visits: u32,
    pub admissions: u32,
}

impl Accumulator {
    pub fn plus(self, d: &Accumulator) -> Accumulator {
        Accumulator {
            deductible: self.deductible + d.deductible,
            fund: self.fund + d.fund,
            base: self.base + d.base,
            visits: self.visits + d.visits,
            admissions: self.admissions + d.admissions,
        }
    }

    pub fn minus(self, d: &Accumulator) -> Accumulator {
        Accumulator {
            deductible: self.deductible - d.deductible,
            fund: self.fund - d.fund,
            base: self.base - d.base,
            visits: self.visits.checked_sub(d.visits).expect("reversal below zero visits"),
            admissions: self
                .admissions
                .checked_sub(d.admissions)
                .expect("reversal below zero admissions"),
        }
    }

    pub fn is_non_negative(&self) -> bool {
        !self.deductible.is_negative() && !self.fund.is_negative() && !self.base.is_negative()
    }
}

/// A person's accumulators for one insurance year, by accumulator key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YearToDate {
    pub year: i32,
    #[serde(default)]
    pub accumulators: Vec<(String, Accumulator)>,
}

impl YearToDate {
    pub fn new(year: i32) -> YearToDate {
        YearToDate {
            year,
            accumulators: Vec::new(),
        }
    }

    pub fn get(&self, key: &str) -> Accumulator {
        self.accumulators
            .iter()
            .find(|(k, _)| k == key)
            .map_or_else(Accumulator::default, |(_, a)| *a)
    }

    fn slot(&mut self, key: &str) -> &mut Accumulator {
        let i = match self.accumulators.iter().position(|(k, _)| k == key) {
            Some(i) => i,
            None => {
                self.accumulators.push((key.to_owned(), Accumulator::default()));
                self.accumulators.len() - 1
            }
        };
        &mut self.accumulators[i].1
    }

    /// Applies a settlement's deltas (or, with `sign` negative, a reversal's).
    pub fn apply(&mut self, deltas: &crate::Deltas) {
        assert_eq!(deltas.year, self.year, "deltas applied to the wrong insurance year");
        for (key, delta) in &deltas.accumulators {
            let slot = self.slot(key);
            *slot = if deltas.reversal {
                slot.minus(delta)
            } else {
                slot.plus(delta)
            };
            assert!(slot.is_non_negative(), "accumulator {key} went negative");
        }
    }
}
