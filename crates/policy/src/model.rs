//! The compiled policy: what the engine runs. Built only by the checker in `parse`, so every
//! value here has been validated (ratios within 0..=1, bands ascending, tables covering every
//! case they are asked about).

use chrono::{Datelike, NaiveDate};
use yibao_codes::{FundPayType, HospitalLevel, InsuranceType, MedicalType, PersonType, SpecialGroup, Tier};
use yibao_money::{Money, Ratio, RatioPoints, Rounding};

/// One version of a pooling region's benefit rules.
#[derive(Clone, Debug)]
pub struct Policy {
    /// 6-digit administrative division of the pooling region (医保区划).
    pub region: String,
    pub name: String,
    pub version: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    /// First month and day of the insurance year (usually 1-1).
    pub year_start: (u32, u32),
    pub rounding: Rounding,
    /// Where the rules come from, and which values were filled in from elsewhere.
    pub sources: Vec<String>,
    pub assumptions: Vec<String>,
    pub waiting_period: Option<WaitingPeriod>,
    pub benefits: Vec<Benefit>,
}

impl Policy {
    /// `region/version`, the identity stored with every settlement.
    pub fn id(&self) -> String {
        format!("{}/{}", self.region, self.version)
    }

    pub fn is_effective_on(&self, date: NaiveDate) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|to| date <= to)
    }

    /// The insurance year a date falls in (the calendar year in which that year starts).
    pub fn insurance_year(&self, date: NaiveDate) -> i32 {
        let (month, day) = self.year_start;
        if (date.month(), date.day()) >= (month, day) {
            date.year()
        } else {
            date.year() - 1
        }
    }

    /// The first benefit whose conditions match the visit.
    pub fn benefit_for(&self, facts: &Facts) -> Option<&Benefit> {
        self.benefits.iter().find(|b| b.when.matches(facts))
    }
}

/// The facts conditions are tested against: the person, the visit, and (per settlement group)
/// the disease.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    pub insurance: InsuranceType,
    pub person_type: PersonType,
    pub tier: Option<Tier>,
    pub groups: GroupSet,
    pub civil_servant: bool,
    pub age_years: u16,
    pub medical_type: MedicalType,
    pub level: HospitalLevel,
    pub in_county: bool,
    pub referred: bool,
    pub disease: Option<&'a str>,
}

/// A set of special groups as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GroupSet(u32);

impl GroupSet {
    pub fn insert(&mut self, group: SpecialGroup) {
        self.0 |= 1 << group as u32;
    }
    pub fn contains(self, group: SpecialGroup) -> bool {
        self.0 & (1 << group as u32) != 0
    }
    pub fn intersects(self, other: GroupSet) -> bool {
        self.0 & other.0 != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl FromIterator<SpecialGroup> for GroupSet {
    fn from_iter<I: IntoIterator<Item = SpecialGroup>>(iter: I) -> GroupSet {
        let mut set = GroupSet::default();
        for g in iter {
            set.insert(g);
        }
        set
    }
}

/// A conjunction of tests; an empty list or `None` tests nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    pub insurance: Vec<InsuranceType>,
    /// Person types, matched by code prefix: `12` matches 1201 and 120101.
    pub person: Vec<PersonType>,
    pub level: Vec<HospitalLevel>,
    pub tier: Vec<Tier>,
    pub groups: GroupSet,
    pub medical_type: Vec<MedicalType>,
    pub disease: Vec<String>,
    pub civil_servant: Option<bool>,
    pub in_county: Option<bool>,
    pub referred: Option<bool>,
    pub age_years_min: Option<u16>,
    pub age_years_max: Option<u16>,
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        *self == Conditions::default()
    }

    pub fn matches(&self, facts: &Facts) -> bool {
        (self.insurance.is_empty() || self.insurance.contains(&facts.insurance))
            && (self.person.is_empty() || self.person.iter().any(|p| person_matches(*p, facts.person_type)))
            && (self.level.is_empty() || self.level.contains(&facts.level))
            && (self.tier.is_empty() || facts.tier.is_some_and(|t| self.tier.contains(&t)))
            && (self.groups.is_empty() || self.groups.intersects(facts.groups))
            && (self.medical_type.is_empty() || self.medical_type.contains(&facts.medical_type))
            && (self.disease.is_empty() || facts.disease.is_some_and(|d| self.disease.iter().any(|c| c == d)))
            && self.civil_servant.is_none_or(|v| v == facts.civil_servant)
            && self.in_county.is_none_or(|v| v == facts.in_county)
            && self.referred.is_none_or(|v| v == facts.referred)
            && self.age_years_min.is_none_or(|min| facts.age_years >= min)
            && self.age_years_max.is_none_or(|max| facts.age_years <= max)
    }
}

/// Prefix match on the decimal code: pattern 12 matches 12, 1201, 120101.
fn person_matches(pattern: PersonType, actual: PersonType) -> bool {
    let (p, mut a) = (pattern.code(), actual.code());
    let digits = |mut n: u32| {
        let mut d = 0;
        while n > 0 {
            n /= 10;
            d += 1;
        }
        d
    };
    let (dp, da) = (digits(p), digits(a));
    if da < dp {
        return false;
    }
    for _ in dp..da {
        a /= 10;
    }
    p == a
}

/// Values chosen by the first row whose conditions match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleTable<T> {
    pub rows: Vec<(Conditions, T)>,
}

impl<T: Copy> RuleTable<T> {
    pub fn single(value: T) -> RuleTable<T> {
        RuleTable {
            rows: vec![(Conditions::default(), value)],
        }
    }

    pub fn lookup(&self, facts: &Facts) -> Option<T> {
        self.rows.iter().find(|(c, _)| c.matches(facts)).map(|(_, v)| *v)
    }
}

/// A settlement plan: which visits it applies to and the stages that pay them.
#[derive(Clone, Debug)]
pub struct Benefit {
    /// The line in the policy file where this benefit starts, for messages.
    pub line: usize,
    pub id: String,
    pub name: String,
    pub when: Conditions,
    /// Lines are grouped by their disease and each group is settled on its own (门诊慢特病).
    pub split_by_disease: bool,
    /// The parts of the personal burden the personal account may pay.
    pub account: Vec<Bucket>,
    /// The parts a bound family member's account may pay (家庭共济), after the person's own
    /// account has paid what it may.
    pub family_account: Vec<Bucket>,
    pub stages: Vec<Stage>,
}

/// The parts a person's burden is kept in, so that each stage can say which parts it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// 全自费 (丙类, restrictions not met).
    FullSelfPay,
    /// 超限价自付.
    OverCap,
    /// 乙类先行自付.
    FirstSelfPay,
    /// 起付线: policy-scope spending under the primary stage's deductible.
    Deductible,
    /// 共付段个人自付: the personal share of spending the primary stage paid a ratio of.
    Coinsurance,
    /// 封顶线以上: policy-scope spending above the primary stage's annual cap.
    AboveCap,
}

impl Bucket {
    pub const ALL: &'static [Bucket] = &[
        Bucket::FullSelfPay,
        Bucket::OverCap,
        Bucket::FirstSelfPay,
        Bucket::Deductible,
        Bucket::Coinsurance,
        Bucket::AboveCap,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Bucket::FullSelfPay => "full_self_pay",
            Bucket::OverCap => "over_cap",
            Bucket::FirstSelfPay => "first_self_pay",
            Bucket::Deductible => "deductible",
            Bucket::Coinsurance => "coinsurance",
            Bucket::AboveCap => "above_cap",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Bucket::FullSelfPay => "全自费",
            Bucket::OverCap => "超限价自付",
            Bucket::FirstSelfPay => "乙类先行自付",
            Bucket::Deductible => "起付线内自付",
            Bucket::Coinsurance => "按比例自付",
            Bucket::AboveCap => "封顶线以上自付",
        }
    }

    pub fn from_key(key: &str) -> Option<Bucket> {
        Bucket::ALL.iter().copied().find(|b| b.key() == key)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a stage pays a ratio of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Base {
    /// The policy-scope amount: the primary stage (basic pooled fund), which divides it into
    /// deductible, coinsurance and above-cap parts.
    PolicyScope,
    /// What is left to the person in these buckets; the stage's payment is taken from them in
    /// the order listed.
    Buckets(Vec<Bucket>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeductiblePer {
    /// Each visit pays the deductible again.
    Visit,
    /// Each admission, with the subsequent-admission rule from the second on.
    Admission,
    /// Once a year: spending accumulates against it (累计计算).
    Year,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subsequent {
    /// From the second admission of the year the deductible is multiplied (e.g. halved).
    Factor(Ratio),
    /// From the second admission each further admission lowers it by an amount, to a floor.
    Minus { step: Money, floor: RuleTable<Money> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deductible {
    pub per: DeductiblePer,
    pub amount: RuleTable<Money>,
    pub subsequent: Option<Subsequent>,
    /// The most deductible counted in a year, however many visits or admissions.
    pub annual_max: Option<RuleTable<Money>>,
}

/// Where the bands of a stage are measured from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandBasis {
    /// Band limits count spending above the deductible ("起付线以上0–3万 60%").
    AfterDeductible,
    /// Band limits count the whole base, deductible included ("1.2万–3万 60%").
    Total,
}

/// Over what the band position accumulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BandScope {
    Visit,
    Year,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Band {
    /// Upper limit of the band on the band axis; `None` for the last, open band.
    pub upto: Option<Money>,
    pub ratio: RuleTable<Ratio>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// Annual fund payment limit (fund money).
    pub annual: Option<RuleTable<Money>>,
    /// Per-visit fund payment limit.
    pub per_visit: Option<RuleTable<Money>>,
    /// The most spending the stage takes into its base in a year (e.g. "6.5万至60万").
    pub annual_base: Option<RuleTable<Money>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Modifier {
    pub when: Conditions,
    pub ratio_add: RatioPoints,
    pub deductible_factor: Option<Ratio>,
    pub no_cap: bool,
    pub note: String,
}

#[derive(Clone, Debug)]
pub struct Stage {
    /// The line in the policy file where this stage starts, for messages.
    pub line: usize,
    pub id: String,
    pub name: String,
    pub fund: FundPayType,
    pub when: Conditions,
    pub base: Base,
    /// The accumulator key; `{disease}` is replaced by the settlement group's disease code.
    pub accumulator: String,
    pub deductible: Option<Deductible>,
    pub bands: Vec<Band>,
    pub band_basis: BandBasis,
    pub band_scope: BandScope,
    pub caps: Caps,
    pub modifiers: Vec<Modifier>,
}

/// Resident waiting periods (待遇等待期) for enrolment outside the window or after a lapse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitingPeriod {
    /// 固定待遇等待期.
    pub fixed_months: u32,
    /// 变动待遇等待期: months added per lapsed year beyond the first.
    pub months_per_extra_lapsed_year: u32,
    /// After this many lapsed years the total is at least `long_lapse_months_min`.
    pub long_lapse_years: u32,
    pub long_lapse_months_min: u32,
}

/// How a person came to be enrolled, as enrolment records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnrolmentFacts {
    /// The day coverage starts (contribution paid for the period).
    pub coverage_start: NaiveDate,
    /// Enrolled inside the collection window and without a lapse: no waiting period.
    pub in_window: bool,
    /// Whole years without contributions before this enrolment.
    pub lapsed_years: u32,
    /// Lapsed years paid back, each removing a month of the variable part.
    pub repaired_years: u32,
    /// Newborns, people leaving employee insurance within 3 months, rural low-income groups.
    pub exempt: bool,
}

impl WaitingPeriod {
    /// Months of waiting, by the national rule (国办发〔2024〕38号).
    pub fn months(&self, facts: &EnrolmentFacts) -> u32 {
        if facts.exempt || (facts.in_window && facts.lapsed_years == 0) {
            return 0;
        }
        let extra_years = facts.lapsed_years.saturating_sub(1);
        let variable = extra_years.saturating_sub(facts.repaired_years) * self.months_per_extra_lapsed_year;
        let months = self.fixed_months + variable;
        if facts.lapsed_years >= self.long_lapse_years {
            months.max(self.long_lapse_months_min)
        } else {
            months
        }
    }

    /// The first day on which the funds pay.
    pub fn benefits_from(&self, facts: &EnrolmentFacts) -> NaiveDate {
        let months = self.months(facts);
        facts
            .coverage_start
            .checked_add_months(chrono::Months::new(months))
            .expect("waiting period within the calendar")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_type_prefix_matching() {
        let p = |s| PersonType::parse(s).unwrap();
        assert!(person_matches(p("12"), p("1201")));
        assert!(person_matches(p("12"), p("12")));
        assert!(person_matches(p("1201"), p("120101")));
        assert!(!person_matches(p("1201"), p("12")));
        assert!(!person_matches(p("11"), p("1201")));
    }

    #[test]
    fn waiting_period_branches() {
        let rule = WaitingPeriod {
            fixed_months: 3,
            months_per_extra_lapsed_year: 1,
            long_lapse_years: 4,
            long_lapse_months_min: 6,
        };
        let start = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
        let facts = |in_window, lapsed_years, repaired_years, exempt| EnrolmentFacts {
            coverage_start: start,
            in_window,
            lapsed_years,
            repaired_years,
            exempt,
        };
        assert_eq!(rule.months(&facts(true, 0, 0, false)), 0, "in the window, continuous");
        assert_eq!(rule.months(&facts(false, 0, 0, false)), 3, "late first enrolment");
        assert_eq!(rule.months(&facts(false, 1, 0, false)), 3, "one lapsed year");
        assert_eq!(rule.months(&facts(false, 3, 0, false)), 5, "3 + 1 per extra year");
        assert_eq!(rule.months(&facts(false, 3, 2, false)), 3, "repaired by paying");
        assert_eq!(
            rule.months(&facts(false, 5, 4, false)),
            6,
            "at least 6 after 4 lapsed years"
        );
        assert_eq!(rule.months(&facts(false, 7, 0, false)), 9);
        assert_eq!(rule.months(&facts(false, 5, 0, true)), 0, "exempt groups");
        assert_eq!(
            rule.benefits_from(&facts(false, 3, 0, false)),
            NaiveDate::from_ymd_opt(2025, 8, 1).unwrap()
        );
    }
}
