//! After-the-fact screening (事后): stored settlements checked with every rule the region lists,
//! whatever its action, and with the rules that need a person's history: split admissions,
//! overlapping stays, outpatient visits during a stay, bed occupation without care, and
//! duplicate charges across visits. Each suspicion (疑点) has a key that names what it is about
//! (rule, settlement, lines or the other visit), so that screening a period twice records it
//! once.

use chrono::{NaiveDate, NaiveDateTime};
use rustc_hash::{FxHashMap, FxHashSet};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Rounding};

use crate::check::{check_claim, Claim, ClaimLine, Role};
use crate::knowledge::{DuplicateWindow, KnowledgeBase};
use crate::rules::{Action, MonitorPolicy, RuleId, Severity};

/// The most settled visits one screening run holds (a month of a large region; the edge
/// screens month by month).
pub const SCREEN_VISITS_MAX: usize = 5_000_000;

/// A settled visit as screening reads it.
#[derive(Clone, Debug)]
pub struct ScreenVisit {
    pub settlement_id: String,
    pub visit_id: String,
    pub person_no: String,
    pub institution: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub insurance: InsuranceType,
    pub setting: CareSetting,
    pub level: HospitalLevel,
    pub begin: NaiveDateTime,
    /// Discharge (inpatient); the visit's day for others.
    pub end: NaiveDateTime,
    /// The principal diagnosis (ICD-10 医保版), when recorded.
    pub diagnosis: Option<String>,
    /// What the funds paid for it (at stake when the visit itself is suspect).
    pub fund_paid: Money,
    pub lines: Vec<ClaimLine>,
    /// Per line: whether settlement refused it already (no money of it is at stake).
    pub refused: Vec<bool>,
}

/// One suspicion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspicion {
    pub rule: RuleId,
    pub severity: Severity,
    /// What makes two suspicions the same: `rule|settlement|lines` or `rule|settlement|other`.
    pub key: String,
    /// Index into the screened visits of the visit it is about.
    pub visit: usize,
    /// The other visit, for rules about two.
    pub other: Option<usize>,
    /// Line serial numbers of the visit at fault.
    pub lines: Vec<String>,
    pub amount: Money,
    pub text: String,
    pub basis: String,
}

/// Screens `visits` (a period plus the days of history before it that the rules look back on);
/// suspicions are recorded only for visits that ended on or after `from`. The policy in force
/// on each visit's first day decides which rules run; a rule it does not list is off.
pub fn screen<'p>(
    kb: &KnowledgeBase,
    policy_on: &dyn Fn(NaiveDate) -> Option<&'p MonitorPolicy>,
    visits: &[ScreenVisit],
    from: NaiveDate,
    rounding: Rounding,
) -> Vec<Suspicion> {
    assert!(visits.len() <= SCREEN_VISITS_MAX, "screening is bounded by its caller");
    let in_period = |v: &ScreenVisit| v.end.date() >= from;
    let mut out = Vec::new();
    // 1. Every per-visit rule, as if each ran in real time, on what settlement did not refuse.
    for (i, v) in visits.iter().enumerate().filter(|(_, v)| in_period(v)) {
        let Some(policy) = policy_on(v.begin.date()) else {
            continue;
        };
        let every = all_active(policy);
        let claim = Claim {
            sex: v.sex,
            birth_date: v.birth_date,
            insurance: v.insurance,
            setting: v.setting,
            level: v.level,
            begin_date: v.begin.date(),
            lines: &v.lines,
        };
        for f in check_claim(kb, &every, &claim, rounding) {
            let at_fault: Vec<_> = f
                .lines
                .iter()
                .filter(|l| l.role == Role::Violating && !v.refused[l.line])
                .collect();
            if at_fault.is_empty() {
                continue;
            }
            let sns: Vec<String> = at_fault.iter().map(|l| v.lines[l.line].sn.clone()).collect();
            out.push(Suspicion {
                rule: f.rule,
                severity: f.severity,
                key: format!("{}|{}|{}", f.rule, v.settlement_id, sns.join(",")),
                visit: i,
                other: None,
                lines: sns,
                amount: at_fault.iter().map(|l| l.amount).sum(),
                text: f.text,
                basis: f.basis,
            });
        }
    }
    // 2. The rules over a person's visits.
    let mut by_person: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, v) in visits.iter().enumerate() {
        by_person.entry(v.person_no.as_str()).or_default().push(i);
    }
    let mut people: Vec<(&str, Vec<usize>)> = by_person.into_iter().collect();
    people.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (_, mut mine) in people {
        mine.sort_by_key(|&i| (visits[i].begin, i));
        let runs = |rule: RuleId, v: &ScreenVisit| policy_on(v.begin.date()).filter(|p| p.action(rule).is_some());
        let stays: Vec<usize> = mine
            .iter()
            .copied()
            .filter(|&i| visits[i].setting == CareSetting::Inpatient)
            .collect();
        for (n, &b) in stays.iter().enumerate() {
            let later = &visits[b];
            if !in_period(later) {
                continue;
            }
            // 分解住院: the stay before, discharged at most N days before this admission, at the
            // same institution, for the same condition (ICD category) where both are recorded.
            if let (Some(&a), Some(policy)) = (
                n.checked_sub(1).and_then(|k| stays.get(k)),
                runs(RuleId::SplitAdmission, later),
            ) {
                let earlier = &visits[a];
                let gap_days = (later.begin.date() - earlier.end.date()).num_days();
                let same_condition = match (&earlier.diagnosis, &later.diagnosis) {
                    (Some(x), Some(y)) => x.get(..3) == y.get(..3),
                    _ => true,
                };
                if let Some(days_max) = policy.thresholds.readmission_days_max {
                    if (0..=i64::from(days_max)).contains(&gap_days)
                        && earlier.institution == later.institution
                        && same_condition
                        && earlier.end <= later.begin
                    {
                        out.push(pair(
                            RuleId::SplitAdmission,
                            b,
                            a,
                            later,
                            earlier,
                            later.fund_paid,
                            format!(
                                "出院{gap_days}天后再次入院同一机构{}(前次{}至{}){}",
                                later.institution,
                                earlier.begin.date(),
                                earlier.end.date(),
                                later
                                    .diagnosis
                                    .as_deref()
                                    .map_or(String::new(), |d| format!(",主诊断{d}"))
                            ),
                            format!("{days_max}天内再入院视为分解住院嫌疑"),
                        ));
                    }
                }
            }
            // 重叠住院: an earlier stay that had not ended when this one began.
            if runs(RuleId::InpatientOverlap, later).is_some() {
                for &a in &stays[..n] {
                    let earlier = &visits[a];
                    if earlier.end > later.begin && earlier.begin < later.end {
                        out.push(pair(
                            RuleId::InpatientOverlap,
                            b,
                            a,
                            later,
                            earlier,
                            later.fund_paid,
                            format!(
                                "住院{}至{}(机构{})与{}至{}(机构{})时间重叠",
                                later.begin.date(),
                                later.end.date(),
                                later.institution,
                                earlier.begin.date(),
                                earlier.end.date(),
                                earlier.institution
                            ),
                            "同一参保人同一时间只能在一处住院".into(),
                        ));
                    }
                }
            }
        }
        // 住院期间门诊: an outpatient or pharmacy visit strictly between admission and discharge day.
        for &o in mine.iter().filter(|&&i| visits[i].setting != CareSetting::Inpatient) {
            let visit = &visits[o];
            if !in_period(visit) || runs(RuleId::OutpatientDuringStay, visit).is_none() {
                continue;
            }
            let day = visit.begin.date();
            if let Some(&s) = stays
                .iter()
                .find(|&&s| visits[s].begin.date() < day && day < visits[s].end.date())
            {
                let stay = &visits[s];
                out.push(pair(
                    RuleId::OutpatientDuringStay,
                    o,
                    s,
                    visit,
                    stay,
                    visit.fund_paid,
                    format!(
                        "{day}在{}门诊结算,其时在{}住院({}至{})",
                        visit.institution,
                        stay.institution,
                        stay.begin.date(),
                        stay.end.date()
                    ),
                    "住院期间发生的门诊费用应纳入住院或不予支付".into(),
                ));
            }
        }
        // 挂床住院: days of a stay with bed and routine charges only.
        for &s in &stays {
            let stay = &visits[s];
            let Some(policy) = runs(RuleId::BedWithoutCare, stay).filter(|_| in_period(stay)) else {
                continue;
            };
            let t = &policy.thresholds;
            let Some(idle_min) = t.idle_days_min else {
                continue;
            };
            let is_bed = |code: &str| t.bed_code_prefixes.iter().any(|p| code.starts_with(p.as_str()));
            let is_routine =
                |code: &str| is_bed(code) || t.routine_code_prefixes.iter().any(|p| code.starts_with(p.as_str()));
            let mut days: FxHashMap<NaiveDate, (bool, bool)> = FxHashMap::default(); // (bed, care)
            for line in &stay.lines {
                let day = days.entry(line.at.date()).or_default();
                day.0 |= is_bed(&line.code);
                day.1 |= !is_routine(&line.code);
            }
            let mut idle: Vec<NaiveDate> = days
                .iter()
                .filter(|(_, (bed, care))| *bed && !*care)
                .map(|(d, _)| *d)
                .collect();
            if idle.len() < usize::from(idle_min) {
                continue;
            }
            idle.sort_unstable();
            let idle_set: FxHashSet<NaiveDate> = idle.iter().copied().collect();
            let (sns, amount) = stay
                .lines
                .iter()
                .enumerate()
                .filter(|(k, l)| idle_set.contains(&l.at.date()) && !stay.refused[*k])
                .fold((Vec::new(), Money::ZERO), |(mut sns, sum), (_, l)| {
                    sns.push(l.sn.clone());
                    (sns, sum + l.amount)
                });
            out.push(Suspicion {
                rule: RuleId::BedWithoutCare,
                severity: RuleId::BedWithoutCare.severity(),
                key: format!("{}|{}", RuleId::BedWithoutCare, stay.settlement_id),
                visit: s,
                other: None,
                lines: sns,
                amount,
                text: format!(
                    "住院{}天中有{}天只收床位、护理、诊查费而无其他诊疗({}至{})",
                    days.len(),
                    idle.len(),
                    idle[0],
                    idle[idle.len() - 1]
                ),
                basis: format!("连续或累计{idle_min}天以上无诊疗视为挂床嫌疑"),
            });
        }
        // 重复收费 across visits: a slave item in one visit charged within the window of its
        // master item in another visit of the same person at the same institution.
        let mut masters: FxHashMap<(&str, &str), Vec<MasterLine>> = FxHashMap::default();
        for &i in &mine {
            for (k, line) in visits[i].lines.iter().enumerate() {
                if kb.is_master(&line.code) {
                    masters
                        .entry((visits[i].institution.as_str(), line.code.as_str()))
                        .or_default()
                        .push((line.at, i, k));
                }
            }
        }
        if masters.is_empty() {
            continue;
        }
        for &i in &mine {
            let v = &visits[i];
            if !in_period(v) || runs(RuleId::DuplicateCharge, v).is_none() {
                continue;
            }
            for (k, line) in v.lines.iter().enumerate() {
                if v.refused[k] {
                    continue;
                }
                let found = kb.pairs_with_slave(&line.code).find_map(|pair| {
                    let candidates = masters.get(&(v.institution.as_str(), &*pair.master_code))?;
                    candidates
                        .iter()
                        .find(|(at, mi, _)| {
                            *mi != i
                                && match pair.window {
                                    DuplicateWindow::SameDay => at.date() == line.at.date(),
                                    DuplicateWindow::SameVisit => false,
                                    DuplicateWindow::Hours(h) => {
                                        (*at - line.at).num_minutes().abs() <= i64::from(h) * 60
                                    }
                                    DuplicateWindow::SameHour => {
                                        at.date() == line.at.date()
                                            && chrono::Timelike::hour(at) == chrono::Timelike::hour(&line.at)
                                    }
                                }
                        })
                        .map(|found| (pair, *found))
                });
                if let Some((pair, (_, mi, _))) = found {
                    let other = &visits[mi];
                    out.push(Suspicion {
                        rule: RuleId::DuplicateCharge,
                        severity: RuleId::DuplicateCharge.severity(),
                        key: format!(
                            "{}|{}|{}|{}",
                            RuleId::DuplicateCharge,
                            v.settlement_id,
                            line.sn,
                            other.settlement_id
                        ),
                        visit: i,
                        other: Some(mi),
                        lines: vec![line.sn.clone()],
                        amount: line.amount,
                        text: format!(
                            "{}({})已含{},另一次就诊{}重复收费",
                            pair.master_name,
                            pair.window.name_zh(),
                            pair.slave_name,
                            other.visit_id
                        ),
                        basis: format!("两库第7批 项目规则库(重复收费) 第{}行", pair.source.line),
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (a.visit, a.rule, &a.key).cmp(&(b.visit, b.rule, &b.key)));
    out.dedup_by(|a, b| a.key == b.key);
    out
}

/// A master item's line of a person: when, which visit, which line.
type MasterLine = (NaiveDateTime, usize, usize);

/// The policy with every rule it lists active in the per-visit check (screening looks for all
/// of them, refused or not at settlement).
fn all_active(policy: &MonitorPolicy) -> MonitorPolicy {
    let mut every = policy.clone();
    for setting in every.rules.values_mut() {
        if setting.action == Action::Screen {
            setting.action = Action::Warn;
        }
    }
    every
}

#[allow(clippy::too_many_arguments)]
fn pair(
    rule: RuleId,
    at: usize,
    other: usize,
    visit: &ScreenVisit,
    other_visit: &ScreenVisit,
    amount: Money,
    text: String,
    basis: String,
) -> Suspicion {
    Suspicion {
        rule,
        severity: rule.severity(),
        key: format!("{rule}|{}|{}", visit.settlement_id, other_visit.settlement_id),
        visit: at,
        other: Some(other),
        lines: Vec::new(),
        amount,
        text,
        basis,
    }
}
