//! Enrolment operations as pure functions: (one person's records, a command, the region's
//! contribution policy) → the new records and the events, or a refusal.
//!
//! The store loads one person's records, calls [`apply`], and writes the result in the same
//! transaction as the ledger postings; nothing here touches a database or a clock, so every
//! operation is checked completely before anything changes, and a refused command changes
//! nothing. Duplicate enrolment (重复参保) is refused here: one person cannot be enrolled and
//! paying in two basic schemes (310 and 390), or in the same scheme in two regions, on the same
//! day; the refusal names the conflicting relationship.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use yibao_codes::{CitizenId, InsuranceType, SpecialGroup, Tier};
use yibao_money::{Money, AMOUNT_FEN_MAX};

use crate::account::{FamilyBinding, FamilyRelation, BOUND_MEMBERS_MAX};
use crate::credit_code::CreditCode;
use crate::ids::{citizen_id_serde, GroupMembership, PersonKind, RegionCode, YearMonth};
use crate::policy::ContributionPolicy;
use crate::records::{
    ConflictingRecord, ContributionPurpose, ContributionRecord, PersonRecords, Relationship, Status, StatusPeriod,
    TransferSource, CONTRIBUTIONS_PER_PERSON_MAX, GROUPS_PER_PERSON_MAX, PERIODS_PER_RELATIONSHIP_MAX,
    REASON_CHARS_MAX, RELATIONSHIPS_PER_PERSON_MAX,
};
use crate::waiting::{basic_scheme_of, decide_waiting, exemption, lapsed_years, Exemption, WaitingFacts};

/// The most months one contribution record may cover (10 years of back pay).
pub const CONTRIBUTION_MONTHS_MAX: i64 = 120;
/// The longest county-class identifier accepted.
pub const COUNTY_CLASS_CHARS_MAX: usize = 64;

/// A request to enrol in one insurance type in one region.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolment {
    pub insurance: InsuranceType,
    pub region: RegionCode,
    pub employer: Option<CreditCode>,
    pub kind: PersonKind,
    pub tier: Option<Tier>,
    pub county_class: Option<String>,
    /// The day of application and payment: employee coverage starts on it; resident coverage
    /// starts on 1 January when inside the window, else on the first day of its month.
    pub applied_on: NaiveDate,
    /// Lapsed years paid for at enrolment (缴费修复).
    #[serde(default)]
    pub repaired_years: u32,
}

/// A request to take over a relationship transferred out of another region (转入).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferIn {
    /// The person's relationship that was transferred out.
    pub from_relationship: u32,
    pub region: RegionCode,
    pub employer: Option<CreditCode>,
    pub kind: PersonKind,
    pub on: NaiveDate,
}

/// An enrolment command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "command")]
pub enum Command {
    Enrol(Enrolment),
    /// 暂停参保 from `on`.
    Suspend {
        relationship: u32,
        on: NaiveDate,
        reason: String,
    },
    /// 恢复参保 from `on`.
    Resume {
        relationship: u32,
        on: NaiveDate,
    },
    /// 终止参保 from `on`; dependent supplementary schemes end with it.
    Terminate {
        relationship: u32,
        on: NaiveDate,
        reason: String,
    },
    /// 转出: `on` is the first day no longer insured here.
    TransferOut {
        relationship: u32,
        on: NaiveDate,
        to_region: RegionCode,
    },
    TransferIn(TransferIn),
    RecordContribution(ContributionRecord),
    /// Pays for lapsed years to shorten the current waiting period.
    RepairLapse {
        relationship: u32,
        years: u32,
        paid_on: NaiveDate,
    },
    JoinGroup(GroupMembership),
    /// Leaves a special group: `on` is the first day no longer a member.
    LeaveGroup {
        group: SpecialGroup,
        on: NaiveDate,
    },
    /// 家庭共济绑定: from `on`, this person's employee personal account may pay the personal
    /// burden of `member` (spouse, parent, child or near relative).
    BindFamily {
        #[serde(with = "citizen_id_serde")]
        member: CitizenId,
        relation: FamilyRelation,
        on: NaiveDate,
    },
    /// Ends a family binding: `on` is the first day the account no longer pays for `member`.
    UnbindFamily {
        #[serde(with = "citizen_id_serde")]
        member: CitizenId,
        on: NaiveDate,
    },
}

/// What happened, for the audit trail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Enrolled,
    Suspended,
    Resumed,
    Terminated,
    TransferredOut,
    TransferredIn,
    ContributionRecorded,
    LapseRepaired,
    GroupJoined,
    GroupLeft,
    FamilyBound,
    FamilyUnbound,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub kind: EventKind,
    pub relationship: Option<u32>,
    pub on: NaiveDate,
    pub message: String,
}

/// The outcome of a command: the person's records after it, and what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub records: PersonRecords,
    pub events: Vec<Event>,
}

/// Why a command was refused. Messages are Chinese: they reach bureau staff unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error("重复参保:{citizen}已有{conflict},不能再自{from}起在{region}参加{}", requested.name_zh())]
    Duplicate {
        citizen: String,
        requested: InsuranceType,
        region: RegionCode,
        from: NaiveDate,
        conflict: ConflictingRecord,
    },
    #[error("参加{}须先在{region}参加{}并处于参保缴费状态", insurance.name_zh(), basic.name_zh())]
    MissingBasic {
        insurance: InsuranceType,
        basic: InsuranceType,
        region: RegionCode,
    },
    #[error("{}不能参加{}", kind.name_zh(), insurance.name_zh())]
    KindMismatch { insurance: InsuranceType, kind: PersonKind },
    #[error("{}参保须填写参保单位", kind.name_zh())]
    EmployerRequired { kind: PersonKind },
    #[error("{}不属于单位参保,不能填写参保单位", kind.name_zh())]
    EmployerNotAllowed { kind: PersonKind },
    #[error("不能办理{}的参保", insurance.name_zh())]
    UnsupportedInsurance { insurance: InsuranceType },
    #[error("{applied_on}不在{year}年度居民医保的缴费期内")]
    OutsideContributionYear { applied_on: NaiveDate, year: i32 },
    #[error("居民医保参保须选择缴费档次,且该档次须适用于{}", kind.name_zh())]
    TierRequired { kind: PersonKind },
    #[error("居民医保参保须填写财政补助分担类别(如脱贫县)")]
    CountyClassRequired,
    #[error("筹资政策{policy}不适用于医保区划{region}")]
    PolicyRegion { policy: String, region: RegionCode },
    #[error("没有编号为{relationship}的参保关系")]
    RelationshipNotFound { relationship: u32 },
    #[error("参保关系{relationship}在{on}的状态为{},不能{action}", status.map_or("未参保", Status::name_zh))]
    WrongStatus {
        relationship: u32,
        on: NaiveDate,
        status: Option<Status>,
        action: &'static str,
    },
    #[error("参保关系{relationship}未转出至{region},不能转入")]
    NotTransferredOut { relationship: u32, region: RegionCode },
    #[error("参保关系{relationship}已转入为参保关系{into},不能再次转入")]
    AlreadyTransferredIn { relationship: u32, into: u32 },
    #[error("转入地与转出地相同({region})")]
    TransferToSameRegion { region: RegionCode },
    #[error("日期{on}早于出生日期{birth_date}")]
    BeforeBirth { on: NaiveDate, birth_date: NaiveDate },
    #[error("{what}超过上限{max}")]
    TooMany { what: &'static str, max: usize },
    #[error("缴费修复{years}年超过断保年数{lapsed}年(已修复{repaired}年)")]
    RepairExceedsLapse { years: u32, lapsed: u32, repaired: u32 },
    #[error("参保关系{relationship}当前没有待遇等待期,无需缴费修复")]
    NothingToRepair { relationship: u32 },
    #[error("缴费记录无效:{0}")]
    Contribution(&'static str),
    #[error("{first_month}至{last_month}的缴费与已有缴费重复")]
    ContributionOverlap {
        first_month: YearMonth,
        last_month: YearMonth,
    },
    #[error("特殊人群身份无效:{0}")]
    Group(&'static str),
    #[error("不能为本人绑定家庭共济")]
    FamilySelf,
    #[error("{on}本人未在职工基本医疗保险参保,没有可用于家庭共济的个人账户")]
    FamilyNoAccount { on: NaiveDate },
    #[error("{member}已绑定本人账户的家庭共济")]
    FamilyAlreadyBound { member: String },
    #[error("{member}在{on}未绑定本人账户的家庭共济")]
    FamilyNotBound { member: String, on: NaiveDate },
    #[error("{0}")]
    Text(&'static str),
}

/// Applies one command to one person's records.
pub fn apply(records: &PersonRecords, command: &Command, policy: &ContributionPolicy) -> Result<Applied, EnrolError> {
    let mut next = records.clone();
    let mut events = Vec::new();
    match command {
        Command::Enrol(e) => enrol(&mut next, e, policy, &mut events)?,
        Command::Suspend {
            relationship,
            on,
            reason,
        } => {
            not_before_birth(records, *on)?;
            let reason = check_reason(reason)?;
            let r = existing(records, *relationship)?;
            require_status(r, *on, &[Status::Enrolled], "暂停参保")?;
            let rel = next.relationship_mut(*relationship).expect("exists");
            split_at(rel, *on, Status::Suspended, &reason, None)?;
            events.push(event(
                EventKind::Suspended,
                Some(*relationship),
                *on,
                format!("暂停参保:{reason}"),
            ));
        }
        Command::Resume { relationship, on } => {
            not_before_birth(records, *on)?;
            let r = existing(records, *relationship)?;
            require_status(r, *on, &[Status::Suspended], "恢复参保")?;
            let to = r.period_on(*on).and_then(|p| p.to);
            check_no_conflict(records, r.insurance, &r.region, *on, to, Some(*relationship))?;
            let rel = next.relationship_mut(*relationship).expect("exists");
            split_at(rel, *on, Status::Enrolled, "恢复参保", Some(*on))?;
            events.push(event(EventKind::Resumed, Some(*relationship), *on, "恢复参保".into()));
        }
        Command::Terminate {
            relationship,
            on,
            reason,
        } => {
            not_before_birth(records, *on)?;
            let reason = check_reason(reason)?;
            terminate_with_dependents(&mut next, *relationship, *on, &reason, &mut events)?;
        }
        Command::TransferOut {
            relationship,
            on,
            to_region,
        } => {
            not_before_birth(records, *on)?;
            let r = existing(records, *relationship)?;
            if &r.region == to_region {
                return Err(EnrolError::TransferToSameRegion {
                    region: to_region.clone(),
                });
            }
            if !r.insurance.is_basic() {
                return Err(EnrolError::UnsupportedInsurance { insurance: r.insurance });
            }
            let months = records.cumulative_months(*relationship);
            let reason = format!("转出至{to_region}");
            terminate_with_dependents(&mut next, *relationship, *on, &reason, &mut events)?;
            next.relationship_mut(*relationship).expect("exists").transferred_to = Some(to_region.clone());
            events.push(event(
                EventKind::TransferredOut,
                Some(*relationship),
                *on,
                format!("参保关系转出至{to_region},累计缴费{months}个月"),
            ));
        }
        Command::TransferIn(t) => transfer_in(&mut next, t, policy, &mut events)?,
        Command::RecordContribution(c) => record_contribution(&mut next, c.clone(), &mut events)?,
        Command::RepairLapse {
            relationship,
            years,
            paid_on,
        } => repair_lapse(&mut next, *relationship, *years, *paid_on, policy, &mut events)?,
        Command::JoinGroup(m) => {
            not_before_birth(records, m.from)?;
            if let Some(to) = m.to {
                not_before_birth(records, to)?;
            }
            if m.to.is_some_and(|to| to < m.from) {
                return Err(EnrolError::Group("结束日期早于开始日期"));
            }
            let overlapping = records.groups.iter().any(|g| {
                g.group == m.group
                    && g.from <= m.to.unwrap_or(NaiveDate::MAX)
                    && m.from <= g.to.unwrap_or(NaiveDate::MAX)
            });
            if overlapping {
                return Err(EnrolError::Group("与已有的同类身份时间重叠"));
            }
            if records.groups.len() >= GROUPS_PER_PERSON_MAX {
                return Err(EnrolError::TooMany {
                    what: "特殊人群身份",
                    max: GROUPS_PER_PERSON_MAX,
                });
            }
            next.groups.push(m.clone());
            events.push(event(
                EventKind::GroupJoined,
                None,
                m.from,
                format!("认定为{}", m.group.name_zh()),
            ));
        }
        Command::LeaveGroup { group, on } => {
            not_before_birth(records, *on)?;
            let index = records
                .groups
                .iter()
                .position(|g| g.group == *group && g.is_active_on(*on))
                .ok_or(EnrolError::Group("该日期不具有此身份"))?;
            let membership = &mut next.groups[index];
            if membership.from == *on {
                next.groups.remove(index);
            } else {
                membership.to = on.pred_opt();
            }
            events.push(event(
                EventKind::GroupLeft,
                None,
                *on,
                format!("不再是{}", group.name_zh()),
            ));
        }
        Command::BindFamily { member, relation, on } => {
            not_before_birth(records, *on)?;
            bind_family(&mut next, member, *relation, *on)?;
            events.push(event(
                EventKind::FamilyBound,
                None,
                *on,
                format!("绑定家庭共济:{}", member.masked()),
            ));
        }
        Command::UnbindFamily { member, on } => {
            let binding = next
                .family
                .iter_mut()
                .find(|b| b.member == *member && b.is_active_on(*on))
                .ok_or_else(|| EnrolError::FamilyNotBound {
                    member: member.masked(),
                    on: *on,
                })?;
            binding.to = on.pred_opt();
            events.push(event(
                EventKind::FamilyUnbound,
                None,
                *on,
                format!("解除家庭共济:{}", member.masked()),
            ));
        }
    }
    Ok(Applied { records: next, events })
}

/// The rules of a family binding (门诊共济, 国办发〔2021〕14号): only an employee's personal
/// account pays for family members, never the owner's own binding, one binding per member at a
/// time, at most [`BOUND_MEMBERS_MAX`] members. That a member is bound to no other account is a
/// rule across persons, checked by whoever holds them all (the platform).
fn bind_family(
    next: &mut PersonRecords,
    member: &CitizenId,
    relation: FamilyRelation,
    on: NaiveDate,
) -> Result<(), EnrolError> {
    if *member == next.person.id {
        return Err(EnrolError::FamilySelf);
    }
    let has_account = next
        .relationships
        .iter()
        .any(|r| r.insurance == InsuranceType::EmployeeBasic && r.is_enrolled_on(on));
    if !has_account {
        return Err(EnrolError::FamilyNoAccount { on });
    }
    if next
        .family
        .iter()
        .any(|b| b.member == *member && b.to.is_none_or(|to| to >= on))
    {
        return Err(EnrolError::FamilyAlreadyBound {
            member: member.masked(),
        });
    }
    if next.family.iter().filter(|b| b.to.is_none()).count() >= BOUND_MEMBERS_MAX {
        return Err(EnrolError::TooMany {
            what: "家庭共济绑定人数",
            max: BOUND_MEMBERS_MAX,
        });
    }
    next.family.push(FamilyBinding {
        member: *member,
        relation,
        from: on,
        to: None,
    });
    Ok(())
}

fn event(kind: EventKind, relationship: Option<u32>, on: NaiveDate, message: String) -> Event {
    Event {
        kind,
        relationship,
        on,
        message,
    }
}

fn existing(records: &PersonRecords, no: u32) -> Result<&Relationship, EnrolError> {
    records
        .relationship(no)
        .ok_or(EnrolError::RelationshipNotFound { relationship: no })
}

/// Dates accepted in commands: the calendar the policies and the codes know.
pub const DATE_YEAR_MIN: i32 = 1900;
pub const DATE_YEAR_MAX: i32 = 2200;

fn not_before_birth(records: &PersonRecords, on: NaiveDate) -> Result<(), EnrolError> {
    let birth_date = records.person.birth_date;
    if !(DATE_YEAR_MIN..=DATE_YEAR_MAX).contains(&on.year()) {
        return Err(EnrolError::Text("日期应在1900年至2200年之间"));
    }
    if on < birth_date {
        Err(EnrolError::BeforeBirth { on, birth_date })
    } else {
        Ok(())
    }
}

fn check_reason(reason: &str) -> Result<String, EnrolError> {
    let reason = reason.trim();
    if reason.chars().count() > REASON_CHARS_MAX {
        return Err(EnrolError::Text("原因不超过200个字符"));
    }
    Ok(reason.to_owned())
}

fn require_status(r: &Relationship, on: NaiveDate, allowed: &[Status], action: &'static str) -> Result<(), EnrolError> {
    let status = r.status_on(on);
    if status.is_some_and(|s| allowed.contains(&s)) {
        Ok(())
    } else {
        Err(EnrolError::WrongStatus {
            relationship: r.no,
            on,
            status,
            action,
        })
    }
}

/// Refuses a new enrolled period `[from, to]` of `insurance` in `region` that overlaps:
/// an enrolled period of the same scheme anywhere, an enrolled period of the other basic scheme,
/// or a suspended period of the same scheme (resume or end it first). A suspended relationship
/// of the *other* basic scheme does not block: someone whose employee insurance stopped may join
/// resident insurance.
fn check_no_conflict(
    records: &PersonRecords,
    insurance: InsuranceType,
    region: &RegionCode,
    from: NaiveDate,
    to: Option<NaiveDate>,
    except: Option<u32>,
) -> Result<(), EnrolError> {
    for r in records.relationships.iter().filter(|r| Some(r.no) != except) {
        let same = r.insurance == insurance;
        let both_basic = r.insurance.is_basic() && insurance.is_basic();
        if !same && !both_basic {
            continue;
        }
        let blocking = |p: &&StatusPeriod| match p.status {
            Status::Enrolled => true,
            Status::Suspended => same,
            Status::Terminated => false,
        };
        if let Some(p) = r.history.iter().filter(blocking).find(|p| p.overlaps(from, to)) {
            return Err(EnrolError::Duplicate {
                citizen: records.person.id.masked(),
                requested: insurance,
                region: region.clone(),
                from,
                conflict: ConflictingRecord {
                    relationship: r.no,
                    insurance: r.insurance,
                    region: r.region.clone(),
                    status: p.status,
                    from: p.from,
                    to: p.to,
                },
            });
        }
    }
    Ok(())
}

/// Ends the period containing `on` the day before and starts a `status` period on `on`. A
/// termination is open-ended and drops any later periods; a suspension or resumption keeps the
/// old end.
fn split_at(
    rel: &mut Relationship,
    on: NaiveDate,
    status: Status,
    reason: &str,
    benefits_from: Option<NaiveDate>,
) -> Result<(), EnrolError> {
    let index = rel
        .history
        .iter()
        .position(|p| p.contains(on))
        .expect("status checked before");
    let old_to = rel.history[index].to;
    let to = if status == Status::Terminated { None } else { old_to };
    if status == Status::Terminated {
        rel.history.truncate(index + 1);
    }
    let new_period = StatusPeriod {
        status,
        from: on,
        to,
        benefits_from,
        waiting: None,
        reason: reason.to_owned(),
    };
    if rel.history[index].from == on {
        rel.history[index] = new_period;
    } else {
        rel.history[index].to = on.pred_opt();
        rel.history.insert(index + 1, new_period);
    }
    if rel.history.len() > PERIODS_PER_RELATIONSHIP_MAX {
        return Err(EnrolError::TooMany {
            what: "参保状态记录",
            max: PERIODS_PER_RELATIONSHIP_MAX,
        });
    }
    Ok(())
}

fn terminate_with_dependents(
    next: &mut PersonRecords,
    no: u32,
    on: NaiveDate,
    reason: &str,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    let r = existing(next, no)?;
    require_status(r, on, &[Status::Enrolled, Status::Suspended], "终止参保")?;
    let (insurance, region) = (r.insurance, r.region.clone());
    let dependents: Vec<u32> = next
        .relationships
        .iter()
        .filter(|d| {
            basic_scheme_of(d.insurance) == Some(insurance)
                && d.region == region
                && matches!(d.status_on(on), Some(Status::Enrolled | Status::Suspended))
        })
        .map(|d| d.no)
        .collect();
    for target in std::iter::once(no).chain(dependents) {
        let rel = next.relationship_mut(target).expect("exists");
        split_at(rel, on, Status::Terminated, reason, None)?;
        events.push(event(
            EventKind::Terminated,
            Some(target),
            on,
            format!("终止参保:{reason}"),
        ));
    }
    Ok(())
}

fn next_relationship_no(records: &PersonRecords) -> Result<u32, EnrolError> {
    if records.relationships.len() >= RELATIONSHIPS_PER_PERSON_MAX {
        return Err(EnrolError::TooMany {
            what: "参保关系",
            max: RELATIONSHIPS_PER_PERSON_MAX,
        });
    }
    Ok(records.relationships.iter().map(|r| r.no).max().unwrap_or(0) + 1)
}

fn check_policy_region(policy: &ContributionPolicy, region: &RegionCode) -> Result<(), EnrolError> {
    if policy.policy.region.covers(region) {
        Ok(())
    } else {
        Err(EnrolError::PolicyRegion {
            policy: policy.id(),
            region: region.clone(),
        })
    }
}

fn check_employer(kind: PersonKind, employer: &Option<CreditCode>) -> Result<(), EnrolError> {
    match (kind, employer) {
        (PersonKind::InService, None) => Err(EnrolError::EmployerRequired { kind }),
        (PersonKind::InService | PersonKind::Retired, _) => Ok(()),
        (_, Some(_)) => Err(EnrolError::EmployerNotAllowed { kind }),
        (_, None) => Ok(()),
    }
}

fn december_31(year: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, 12, 31).expect("valid year")
}

fn enrol(
    next: &mut PersonRecords,
    e: &Enrolment,
    policy: &ContributionPolicy,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    not_before_birth(next, e.applied_on)?;
    check_policy_region(policy, &e.region)?;
    if let Some(class) = &e.county_class {
        if class.chars().count() > COUNTY_CLASS_CHARS_MAX {
            return Err(EnrolError::Text("财政补助分担类别过长"));
        }
    }
    let mut period = StatusPeriod {
        status: Status::Enrolled,
        from: e.applied_on,
        to: None,
        benefits_from: Some(e.applied_on),
        waiting: None,
        reason: "参保登记".into(),
    };
    match e.insurance {
        InsuranceType::EmployeeBasic => {
            if !e.kind.is_employee() {
                return Err(EnrolError::KindMismatch {
                    insurance: e.insurance,
                    kind: e.kind,
                });
            }
            check_employer(e.kind, &e.employer)?;
        }
        InsuranceType::ResidentBasic => {
            if e.kind.is_employee() {
                return Err(EnrolError::KindMismatch {
                    insurance: e.insurance,
                    kind: e.kind,
                });
            }
            check_employer(e.kind, &e.employer)?;
            let tier = e.tier.ok_or(EnrolError::TierRequired { kind: e.kind })?;
            policy
                .resident_tier(tier, e.kind)
                .ok_or(EnrolError::TierRequired { kind: e.kind })?;
            let class = e.county_class.as_deref().ok_or(EnrolError::CountyClassRequired)?;
            if !policy.subsidy.local_split.iter().any(|s| s.county_class == class) {
                return Err(EnrolError::CountyClassRequired);
            }
            let year = policy.resident.insurance_year;
            let in_window = policy.resident.collection_window.contains(e.applied_on);
            let covered_from = if in_window {
                NaiveDate::from_ymd_opt(year, 1, 1).expect("valid year")
            } else if e.applied_on.year() == year {
                YearMonth::of(e.applied_on).first_day()
            } else {
                return Err(EnrolError::OutsideContributionYear {
                    applied_on: e.applied_on,
                    year,
                });
            };
            let lapsed = lapsed_years(next, year);
            if e.repaired_years > lapsed {
                return Err(EnrolError::RepairExceedsLapse {
                    years: e.repaired_years,
                    lapsed,
                    repaired: 0,
                });
            }
            let decision = decide_waiting(
                &policy.waiting_period,
                WaitingFacts {
                    covered_from,
                    in_window,
                    lapsed_years: lapsed,
                    repaired_years: e.repaired_years,
                    exemption: exemption(next, &policy.waiting_period, e.applied_on, covered_from),
                },
            );
            period.from = covered_from;
            period.to = Some(december_31(year));
            period.benefits_from = Some(decision.benefits_from);
            period.waiting = Some(decision);
        }
        InsuranceType::CivilServantSubsidy
        | InsuranceType::LargeExpenseSubsidy
        | InsuranceType::Maternity
        | InsuranceType::ResidentCriticalIllness => {
            let basic = basic_scheme_of(e.insurance).expect("supplementary");
            let base_period = next
                .relationships
                .iter()
                .filter(|r| r.insurance == basic && r.region == e.region)
                .find_map(|r| r.period_on(e.applied_on).filter(|p| p.status == Status::Enrolled))
                .ok_or_else(|| EnrolError::MissingBasic {
                    insurance: e.insurance,
                    basic,
                    region: e.region.clone(),
                })?;
            period.to = base_period.to;
            period.benefits_from = base_period.benefits_from.map(|b| b.max(e.applied_on));
        }
        other => return Err(EnrolError::UnsupportedInsurance { insurance: other }),
    }
    check_no_conflict(next, e.insurance, &e.region, period.from, period.to, None)?;
    let message = match &period.waiting {
        Some(w) => w.explanation_zh(),
        None => format!("参加{}", e.insurance.name_zh()),
    };
    let repair = period
        .waiting
        .map(|w| (w.facts.repaired_years, w.facts.covered_from.year()));
    // A resident renewing in the same region continues the same relationship.
    let continuing = next.relationships.iter_mut().find(|r| {
        r.insurance == e.insurance
            && r.region == e.region
            && !r.is_terminated()
            && r.history.last().and_then(|p| p.to).is_some_and(|to| to < period.from)
    });
    let no = match continuing {
        Some(r) => {
            r.history.push(period);
            r.kind = e.kind;
            r.tier = e.tier;
            r.county_class.clone_from(&e.county_class);
            r.employer = e.employer;
            r.no
        }
        None => {
            let no = next_relationship_no(next)?;
            next.relationships.push(Relationship {
                no,
                insurance: e.insurance,
                region: e.region.clone(),
                employer: e.employer,
                kind: e.kind,
                tier: e.tier,
                county_class: e.county_class.clone(),
                history: vec![period],
                carried_months: 0,
                transferred_from: None,
                transferred_to: None,
            });
            no
        }
    };
    events.push(event(EventKind::Enrolled, Some(no), e.applied_on, message));
    if let Some((years, coverage_year)) = repair.filter(|(years, _)| *years > 0) {
        push_repair_contribution(next, no, years, coverage_year, e.applied_on, policy, events)?;
    }
    Ok(())
}

fn push_repair_contribution(
    next: &mut PersonRecords,
    no: u32,
    years: u32,
    coverage_year: i32,
    paid_on: NaiveDate,
    policy: &ContributionPolicy,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    let r = existing(next, no)?;
    let tier = r.tier.ok_or(EnrolError::TierRequired { kind: r.kind })?;
    let per_year = policy
        .resident_tier(tier, r.kind)
        .ok_or(EnrolError::TierRequired { kind: r.kind })?
        .individual_amount;
    let amount = Money::from_fen(per_year.fen() * i64::from(years));
    let first_year = coverage_year - i32::try_from(years).unwrap_or(0);
    let record = ContributionRecord {
        relationship: no,
        first_month: YearMonth::new(first_year, 1).ok_or(EnrolError::Contribution("修复年度无效"))?,
        last_month: YearMonth::new(coverage_year - 1, 12).ok_or(EnrolError::Contribution("修复年度无效"))?,
        individual_amount: amount,
        employer_amount: Money::ZERO,
        paid_on,
        purpose: ContributionPurpose::LapseRepair,
    };
    if next.contributions.len() >= CONTRIBUTIONS_PER_PERSON_MAX {
        return Err(EnrolError::TooMany {
            what: "缴费记录",
            max: CONTRIBUTIONS_PER_PERSON_MAX,
        });
    }
    next.contributions.push(record);
    events.push(event(
        EventKind::LapseRepaired,
        Some(no),
        paid_on,
        format!("缴费修复{years}年,缴纳{amount}元"),
    ));
    Ok(())
}

fn repair_lapse(
    next: &mut PersonRecords,
    no: u32,
    years: u32,
    paid_on: NaiveDate,
    policy: &ContributionPolicy,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    not_before_birth(next, paid_on)?;
    let r = existing(next, no)?;
    let (index, decision) = r
        .history
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| p.waiting.filter(|w| w.months > 0).map(|w| (i, w)))
        .ok_or(EnrolError::NothingToRepair { relationship: no })?;
    let facts = decision.facts;
    let repaired = facts.repaired_years.saturating_add(years);
    if years == 0 || repaired > facts.lapsed_years {
        return Err(EnrolError::RepairExceedsLapse {
            years,
            lapsed: facts.lapsed_years,
            repaired: facts.repaired_years,
        });
    }
    let new_decision = decide_waiting(
        &policy.waiting_period,
        WaitingFacts {
            repaired_years: repaired,
            ..facts
        },
    );
    let rel = next.relationship_mut(no).expect("exists");
    rel.history[index].waiting = Some(new_decision);
    rel.history[index].benefits_from = Some(new_decision.benefits_from);
    // The years just paid are the most recent still unpaid.
    let coverage_year = facts.covered_from.year() - i32::try_from(facts.repaired_years).unwrap_or(0);
    push_repair_contribution(next, no, years, coverage_year, paid_on, policy, events)?;
    Ok(())
}

fn transfer_in(
    next: &mut PersonRecords,
    t: &TransferIn,
    policy: &ContributionPolicy,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    not_before_birth(next, t.on)?;
    check_policy_region(policy, &t.region)?;
    check_employer(t.kind, &t.employer)?;
    let source = existing(next, t.from_relationship)?;
    if source.transferred_to.as_ref() != Some(&t.region) {
        return Err(EnrolError::NotTransferredOut {
            relationship: t.from_relationship,
            region: t.region.clone(),
        });
    }
    if let Some(into) = next.relationships.iter().find(|r| {
        r.transferred_from
            .as_ref()
            .is_some_and(|s| s.relationship == t.from_relationship)
    }) {
        return Err(EnrolError::AlreadyTransferredIn {
            relationship: t.from_relationship,
            into: into.no,
        });
    }
    let insurance = source.insurance;
    if insurance.is_basic() && (insurance == InsuranceType::EmployeeBasic) != t.kind.is_employee() {
        return Err(EnrolError::KindMismatch {
            insurance,
            kind: t.kind,
        });
    }
    let left_on = source.history.last().map_or(t.on, |p| p.from);
    if t.on < left_on {
        return Err(EnrolError::Text("转入日期早于转出日期"));
    }
    let continuous = left_on
        .checked_add_months(Months::new(policy.waiting_period.employee_gap_exempt_months))
        .is_some_and(|limit| t.on <= limit);
    let carried_months = next.cumulative_months(t.from_relationship);
    let mut period = StatusPeriod {
        status: Status::Enrolled,
        from: t.on,
        to: None,
        benefits_from: Some(t.on),
        waiting: None,
        reason: format!("自{}转入", source.region),
    };
    if insurance == InsuranceType::ResidentBasic {
        // The year already paid in the old region stays paid.
        period.to = Some(december_31(t.on.year()));
        let exempt = if continuous {
            Some(Exemption::Transfer)
        } else {
            exemption(next, &policy.waiting_period, t.on, t.on)
        };
        let decision = decide_waiting(
            &policy.waiting_period,
            WaitingFacts {
                covered_from: t.on,
                in_window: false,
                lapsed_years: lapsed_years(next, t.on.year()),
                repaired_years: 0,
                exemption: exempt,
            },
        );
        period.benefits_from = Some(decision.benefits_from);
        period.waiting = Some(decision);
    }
    check_no_conflict(next, insurance, &t.region, period.from, period.to, None)?;
    let source_region = source.region.clone();
    let no = next_relationship_no(next)?;
    next.relationships.push(Relationship {
        no,
        insurance,
        region: t.region.clone(),
        employer: t.employer,
        kind: t.kind,
        tier: source.tier,
        county_class: source.county_class.clone(),
        history: vec![period],
        carried_months,
        transferred_from: Some(TransferSource {
            region: source_region.clone(),
            relationship: t.from_relationship,
            transferred_on: left_on,
        }),
        transferred_to: None,
    });
    events.push(event(
        EventKind::TransferredIn,
        Some(no),
        t.on,
        format!("自{source_region}转入,累计缴费{carried_months}个月接续计算"),
    ));
    Ok(())
}

fn record_contribution(
    next: &mut PersonRecords,
    c: ContributionRecord,
    events: &mut Vec<Event>,
) -> Result<(), EnrolError> {
    not_before_birth(next, c.paid_on)?;
    let r = existing(next, c.relationship)?;
    for month in [c.first_month, c.last_month] {
        YearMonth::new(month.year, month.month).ok_or(EnrolError::Contribution("月份无效"))?;
    }
    let span = c.first_month.months_until(c.last_month);
    if !(0..CONTRIBUTION_MONTHS_MAX).contains(&span) {
        return Err(EnrolError::Contribution("起止月份颠倒或超过120个月"));
    }
    let amount_ok = |m: Money| !m.is_negative() && m.fen() <= AMOUNT_FEN_MAX;
    if !amount_ok(c.individual_amount) || !amount_ok(c.employer_amount) {
        return Err(EnrolError::Contribution("金额为负或超出范围"));
    }
    if c.purpose != ContributionPurpose::Regular {
        return Err(EnrolError::Contribution("缴费修复请用RepairLapse办理"));
    }
    if r.started_on().is_none_or(|start| c.last_month.last_day() < start) {
        return Err(EnrolError::Contribution("缴费月份早于参保开始"));
    }
    let overlapping = next.contributions.iter().any(|x| {
        x.relationship == c.relationship
            && x.purpose == ContributionPurpose::Regular
            && x.first_month <= c.last_month
            && c.first_month <= x.last_month
    });
    if overlapping {
        return Err(EnrolError::ContributionOverlap {
            first_month: c.first_month,
            last_month: c.last_month,
        });
    }
    if next.contributions.len() >= CONTRIBUTIONS_PER_PERSON_MAX {
        return Err(EnrolError::TooMany {
            what: "缴费记录",
            max: CONTRIBUTIONS_PER_PERSON_MAX,
        });
    }
    events.push(event(
        EventKind::ContributionRecorded,
        Some(c.relationship),
        c.paid_on,
        format!(
            "缴费{}至{}:个人{}元,单位{}元",
            c.first_month, c.last_month, c.individual_amount, c.employer_amount
        ),
    ));
    next.contributions.push(c);
    Ok(())
}

/// The suspensions due for unpaid employee contributions in `month`: a paying employee or
/// flexible worker whose contributions stop is suspended once `suspend_after_missed_months`
/// months in a row are unpaid, from the first day of the month after them (benefits continue
/// through the grace months). Retirees pay nothing and are never suspended for it.
pub fn arrears_suspensions(records: &PersonRecords, policy: &ContributionPolicy, month: YearMonth) -> Vec<Command> {
    arrears_suspensions_paid_through(records, policy, month, None)
}

/// [`arrears_suspensions`] where the last month paid may also be known outside the person's
/// records (`paid_elsewhere`: a monthly run's charges are kept by the caller, not in the
/// records); the later of the two counts.
pub fn arrears_suspensions_paid_through(
    records: &PersonRecords,
    policy: &ContributionPolicy,
    month: YearMonth,
    paid_elsewhere: Option<YearMonth>,
) -> Vec<Command> {
    if YearMonth::new(month.year, month.month).is_none() {
        return Vec::new();
    }
    let grace = i64::from(policy.employee.suspend_after_missed_months);
    records
        .relationships
        .iter()
        .filter(|r| r.insurance == InsuranceType::EmployeeBasic && r.kind != PersonKind::Retired)
        .filter(|r| r.is_enrolled_on(month.first_day()))
        .filter_map(|r| {
            let started = prev_month(YearMonth::of(r.started_on().expect("has history")));
            let paid_through = records
                .paid_through(r.no)
                .max(paid_elsewhere)
                .unwrap_or(started)
                .max(started);
            let missed = paid_through.months_until(month);
            (missed > grace).then(|| Command::Suspend {
                relationship: r.no,
                on: month.first_day(),
                reason: format!("连续欠缴{}个月", missed - 1),
            })
        })
        .collect()
}

fn prev_month(m: YearMonth) -> YearMonth {
    if m.month == 1 {
        YearMonth {
            year: m.year - 1,
            month: 12,
        }
    } else {
        YearMonth {
            year: m.year,
            month: m.month - 1,
        }
    }
}
