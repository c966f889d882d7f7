//! Waiting periods (待遇等待期) and coverage on a date (是否在保).
//!
//! Since 2025 (国办发〔2024〕38号) a resident who enrols outside the collection window or after a
//! lapse waits before the funds pay: a fixed 3 months, plus 1 month for each lapsed year, which
//! paying for lapsed years removes again (缴费修复), but after 4 or more lapsed years the total
//! stays at least 6 months. Newborns, people joining within 3 months of leaving employee
//! insurance and rural low-income groups never wait (seed 000, 桂医保发〔2022〕30号).
//!
//! `yibao_policy::WaitingPeriod` counts the variable part from the *second* lapsed year; the
//! published local explanations (national-facts §8: "每断缴一年，会增加一个月") count every lapsed
//! year, so enrolment carries its own rule here, with the exemptions, which the benefit policy
//! does not decide. Every decision records the facts and the branch taken, so a bureau can say
//! why a person waits.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use yibao_codes::{InsuranceType, PersonType, SpecialGroup, Tier};

use crate::ids::{PersonKind, RegionCode};
use crate::policy::WaitingRule;
use crate::records::{PersonRecords, Status};

/// Why no waiting period applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Exemption {
    /// 新生儿, enrolled within the policy's days of birth.
    Newborn,
    /// Joined within the policy's months of leaving employee insurance (职工医保中断缴费3个月内).
    LeftEmployeeInsurance { left_on: NaiveDate },
    /// 农村低收入人口 (特困、孤儿、低保、低保边缘、脱贫、监测对象、返贫致贫…).
    LowIncomeGroup { group: SpecialGroup },
    /// A relationship transferred in from another region without a break (转移接续).
    Transfer,
}

/// The facts a waiting period is decided on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingFacts {
    /// The first day the contribution pays for.
    pub covered_from: NaiveDate,
    /// Enrolled and paid inside the collection window.
    pub in_window: bool,
    /// Whole insurance years without any basic coverage before this one.
    pub lapsed_years: u32,
    /// Lapsed years paid for (缴费修复), each removing a month of the variable part.
    pub repaired_years: u32,
    pub exemption: Option<Exemption>,
}

/// Which rule decided the waiting period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitingBranch {
    Exempt,
    /// In the window and continuous: none.
    InWindowContinuous,
    /// Outside the window, no lapse: the fixed part only.
    Fixed,
    /// Fixed part plus a month per lapsed year not repaired.
    FixedPlusLapse,
    /// Four or more lapsed years: the floor of 6 months bound after repair.
    LongLapseMinimum,
}

/// A decided waiting period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitingDecision {
    pub facts: WaitingFacts,
    pub branch: WaitingBranch,
    pub months: u32,
    pub benefits_from: NaiveDate,
}

impl WaitingDecision {
    /// The explanation given to the person.
    pub fn explanation_zh(&self) -> String {
        let f = &self.facts;
        match (self.branch, f.exemption) {
            (WaitingBranch::Exempt, Some(Exemption::Newborn)) => "新生儿参保,不设待遇等待期".into(),
            (WaitingBranch::Exempt, Some(Exemption::LeftEmployeeInsurance { left_on })) => {
                format!("职工医保于{left_on}中断后3个月内参加居民医保,不设待遇等待期")
            }
            (WaitingBranch::Exempt, Some(Exemption::LowIncomeGroup { group })) => {
                format!("{}属于农村低收入人口,不设待遇等待期", group.name_zh())
            }
            (WaitingBranch::Exempt, _) => "参保关系转移接续,不设待遇等待期".into(),
            (WaitingBranch::InWindowContinuous, _) => "在集中参保期内连续参保,不设待遇等待期".into(),
            (WaitingBranch::Fixed, _) => format!(
                "未在集中参保期内参保,固定待遇等待期{}个月,自{}起享受待遇",
                self.months, self.benefits_from
            ),
            (WaitingBranch::FixedPlusLapse, _) => format!(
                "断保{}年(已修复{}年),固定加变动待遇等待期共{}个月,自{}起享受待遇",
                f.lapsed_years, f.repaired_years, self.months, self.benefits_from
            ),
            (WaitingBranch::LongLapseMinimum, _) => format!(
                "连续断保{}年及以上,修复后待遇等待期不少于{}个月,自{}起享受待遇",
                f.lapsed_years, self.months, self.benefits_from
            ),
        }
    }
}

/// Decides the waiting period: the national rule with the policy's parameters.
pub fn decide_waiting(rule: &WaitingRule, facts: WaitingFacts) -> WaitingDecision {
    let (branch, months) = if facts.exemption.is_some() {
        (WaitingBranch::Exempt, 0)
    } else if facts.in_window && facts.lapsed_years == 0 {
        (WaitingBranch::InWindowContinuous, 0)
    } else if facts.lapsed_years == 0 {
        (WaitingBranch::Fixed, rule.fixed_months)
    } else {
        let unrepaired = facts.lapsed_years.saturating_sub(facts.repaired_years);
        let months = rule.fixed_months + unrepaired * rule.months_per_lapsed_year;
        if facts.lapsed_years >= rule.long_lapse_years && months < rule.long_lapse_months_min {
            (WaitingBranch::LongLapseMinimum, rule.long_lapse_months_min)
        } else {
            (WaitingBranch::FixedPlusLapse, months)
        }
    };
    let benefits_from = facts
        .covered_from
        .checked_add_months(Months::new(months))
        .expect("waiting period within the calendar (months bounded by the policy check)");
    WaitingDecision {
        facts,
        branch,
        months,
        benefits_from,
    }
}

/// Insurance years strictly between the last year with any basic coverage (employee or
/// resident, any region) and `coverage_year`, with none. A person never covered has no lapse.
pub fn lapsed_years(records: &PersonRecords, coverage_year: i32) -> u32 {
    let last_covered_year = records
        .relationships
        .iter()
        .filter(|r| r.insurance.is_basic())
        .flat_map(|r| r.enrolled_periods())
        .filter(|p| p.from.year() < coverage_year)
        .map(|p| p.to.map_or(coverage_year, |to| to.year()).min(coverage_year))
        .max();
    match last_covered_year {
        Some(year) if year < coverage_year => u32::try_from(coverage_year - year - 1).unwrap_or(0),
        _ => 0,
    }
}

/// The exemption that applies to a resident enrolment, if any.
pub fn exemption(
    records: &PersonRecords,
    rule: &WaitingRule,
    applied_on: NaiveDate,
    covered_from: NaiveDate,
) -> Option<Exemption> {
    let newborn_days = (applied_on - records.person.birth_date).num_days();
    if (0..=i64::from(rule.newborn_enrol_days_max)).contains(&newborn_days) {
        return Some(Exemption::Newborn);
    }
    let groups = records.groups_on(applied_on);
    if let Some(group) = rule.exempt_groups.iter().find(|g| groups.contains(g)) {
        return Some(Exemption::LowIncomeGroup { group: *group });
    }
    // The last day of employee coverage (enrolled and paying) before the resident coverage.
    let left_on = records
        .relationships
        .iter()
        .filter(|r| r.insurance == InsuranceType::EmployeeBasic)
        .flat_map(|r| r.enrolled_periods())
        .filter_map(|p| p.to)
        .filter(|to| *to < covered_from)
        .max()?;
    let limit = left_on.checked_add_months(Months::new(rule.employee_gap_exempt_months))?;
    (covered_from <= limit).then_some(Exemption::LeftEmployeeInsurance { left_on })
}

/// What the settlement engine needs to know about a covered person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Covered {
    pub relationship: u32,
    pub insurance: InsuranceType,
    pub region: RegionCode,
    pub kind: PersonKind,
    pub tier: Option<Tier>,
    pub benefits_from: NaiveDate,
    pub special_groups: Vec<SpecialGroup>,
}

impl Covered {
    /// The national person type (人员类别) benefit rules match on.
    pub fn person_type(&self) -> PersonType {
        PersonType::from_category(self.kind.category())
    }
}

/// Why a person is not covered on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "why")]
pub enum NotCovered {
    NotEnrolled {
        insurance: InsuranceType,
    },
    BeforeEnrolment {
        insurance: InsuranceType,
        starts_on: NaiveDate,
    },
    InWaitingPeriod {
        insurance: InsuranceType,
        benefits_from: NaiveDate,
        months: u32,
    },
    Suspended {
        insurance: InsuranceType,
        since: NaiveDate,
        reason: String,
    },
    Terminated {
        insurance: InsuranceType,
        since: NaiveDate,
        reason: String,
    },
    TransferredOut {
        insurance: InsuranceType,
        to_region: RegionCode,
    },
    Lapsed {
        insurance: InsuranceType,
        ended_on: NaiveDate,
    },
    /// A supplementary scheme whose basic scheme is not covered.
    BasicNotCovered {
        insurance: InsuranceType,
        basic: Box<NotCovered>,
    },
}

impl NotCovered {
    pub fn message_zh(&self) -> String {
        match self {
            NotCovered::NotEnrolled { insurance } => format!("未参加{}", insurance.name_zh()),
            NotCovered::BeforeEnrolment { insurance, starts_on } => {
                format!("{}自{}起参保,就诊日尚未参保", insurance.name_zh(), starts_on)
            }
            NotCovered::InWaitingPeriod {
                insurance,
                benefits_from,
                months,
            } => format!(
                "{}处于{}个月的待遇等待期内,自{}起享受待遇",
                insurance.name_zh(),
                months,
                benefits_from
            ),
            NotCovered::Suspended {
                insurance,
                since,
                reason,
            } => format!("{}自{}起暂停参保({})", insurance.name_zh(), since, reason),
            NotCovered::Terminated {
                insurance,
                since,
                reason,
            } => format!("{}自{}起终止参保({})", insurance.name_zh(), since, reason),
            NotCovered::TransferredOut { insurance, to_region } => {
                format!("{}参保关系已转出至{}", insurance.name_zh(), to_region)
            }
            NotCovered::Lapsed { insurance, ended_on } => {
                format!("{}缴费期至{}已结束,未续保", insurance.name_zh(), ended_on)
            }
            NotCovered::BasicNotCovered { insurance, basic } => {
                format!("{}依附的基本医保不在保:{}", insurance.name_zh(), basic.message_zh())
            }
        }
    }
}

impl fmt::Display for NotCovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message_zh())
    }
}

/// The basic scheme a supplementary scheme depends on.
pub fn basic_scheme_of(insurance: InsuranceType) -> Option<InsuranceType> {
    match insurance {
        InsuranceType::CivilServantSubsidy | InsuranceType::LargeExpenseSubsidy | InsuranceType::Maternity => {
            Some(InsuranceType::EmployeeBasic)
        }
        InsuranceType::ResidentCriticalIllness => Some(InsuranceType::ResidentBasic),
        _ => None,
    }
}

/// Whether the person is covered by `insurance` on `date`, and from when the funds pay; the
/// question the settlement engine asks before every settlement.
pub fn coverage_on(records: &PersonRecords, insurance: InsuranceType, date: NaiveDate) -> Result<Covered, NotCovered> {
    let candidates: Vec<_> = records
        .relationships
        .iter()
        .filter(|r| r.insurance == insurance)
        .collect();
    if candidates.is_empty() {
        return Err(NotCovered::NotEnrolled { insurance });
    }
    // An enrolled period on the date wins over a suspended or terminated one elsewhere.
    let on_date = candidates
        .iter()
        .filter_map(|r| r.period_on(date).map(|p| (*r, p)))
        .min_by_key(|(_, p)| match p.status {
            Status::Enrolled => 0,
            Status::Suspended => 1,
            Status::Terminated => 2,
        });
    let Some((relationship, period)) = on_date else {
        return Err(not_covered_between_periods(&candidates, insurance, date));
    };
    match period.status {
        Status::Suspended => Err(NotCovered::Suspended {
            insurance,
            since: period.from,
            reason: period.reason.clone(),
        }),
        Status::Terminated => match &relationship.transferred_to {
            Some(to_region) => Err(NotCovered::TransferredOut {
                insurance,
                to_region: to_region.clone(),
            }),
            None => Err(NotCovered::Terminated {
                insurance,
                since: period.from,
                reason: period.reason.clone(),
            }),
        },
        Status::Enrolled => {
            let benefits_from = period.benefits_from.unwrap_or(period.from);
            if date < benefits_from {
                return Err(NotCovered::InWaitingPeriod {
                    insurance,
                    benefits_from,
                    months: period.waiting.map_or(0, |w| w.months),
                });
            }
            if let Some(basic) = basic_scheme_of(insurance) {
                coverage_on(records, basic, date).map_err(|e| NotCovered::BasicNotCovered {
                    insurance,
                    basic: Box::new(e),
                })?;
            }
            Ok(Covered {
                relationship: relationship.no,
                insurance,
                region: relationship.region.clone(),
                kind: relationship.kind,
                tier: relationship.tier,
                benefits_from,
                special_groups: records.groups_on(date),
            })
        }
    }
}

fn not_covered_between_periods(
    candidates: &[&crate::records::Relationship],
    insurance: InsuranceType,
    date: NaiveDate,
) -> NotCovered {
    let ended_before = candidates
        .iter()
        .flat_map(|r| r.history.iter())
        .filter_map(|p| p.to.filter(|to| *to < date))
        .max();
    match ended_before {
        Some(ended_on) => NotCovered::Lapsed { insurance, ended_on },
        None => {
            let starts_on = candidates.iter().filter_map(|r| r.started_on()).min().unwrap_or(date);
            NotCovered::BeforeEnrolment { insurance, starts_on }
        }
    }
}
