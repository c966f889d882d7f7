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
    /// The attending doctor (医保医师代码), when recorded.
    pub doctor: Option<String>,
    /// What the funds paid for it (at stake when the visit itself is suspect).
    pub fund_paid: Money,
    pub lines: Vec<ClaimLine>,
    /// Per line: whether settlement refused it already (no money of it is at stake).
    pub refused: Vec<bool>,
    /// Why the person was not covered on the visit's day, by the enrolment records as they
    /// stand now (a termination registered after the visit, a death): `None` when covered or
    /// when no enrolment record is kept.
    pub not_covered: Option<String>,
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
    /// About an institution (peers, groups) rather than one person's visit: `visit` then only
    /// names one of its visits, for the institution.
    pub institution_level: bool,
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
    // Each version with every rule it lists active, made once per version (not per visit).
    let mut active: Vec<(*const MonitorPolicy, MonitorPolicy)> = Vec::new();
    // 1. Every per-visit rule, as if each ran in real time, on what settlement did not refuse.
    for (i, v) in visits.iter().enumerate().filter(|(_, v)| in_period(v)) {
        let Some(policy) = policy_on(v.begin.date()) else {
            continue;
        };
        let at = match active.iter().position(|(p, _)| std::ptr::eq(*p, policy)) {
            Some(at) => at,
            None => {
                active.push((policy as *const MonitorPolicy, all_active(policy)));
                active.len() - 1
            }
        };
        let every = &active[at].1;
        let claim = Claim {
            sex: v.sex,
            birth_date: v.birth_date,
            insurance: v.insurance,
            setting: v.setting,
            level: v.level,
            begin_date: v.begin.date(),
            lines: &v.lines,
        };
        for f in check_claim(kb, every, &claim, rounding) {
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
                institution_level: false,
            });
        }
    }
    // 参保中断或死亡后就医: the enrolment records as they stand now say the person was not covered.
    for (i, v) in visits.iter().enumerate().filter(|(_, v)| in_period(v)) {
        let Some(reason) = &v.not_covered else {
            continue;
        };
        if policy_on(v.begin.date()).is_some_and(|p| p.action(RuleId::NotCovered).is_some()) {
            out.push(Suspicion {
                rule: RuleId::NotCovered,
                severity: RuleId::NotCovered.severity(),
                key: format!("{}|{}", RuleId::NotCovered, v.settlement_id),
                visit: i,
                other: None,
                lines: Vec::new(),
                amount: v.fund_paid,
                text: format!("{}就医时{reason}", v.begin.date()),
                basis: "就医之日须在参保缴费有效期内; 死亡后发生的费用基金不予支付".into(),
                institution_level: false,
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
                institution_level: false,
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
                        institution_level: false,
                    });
                }
            }
        }
    }
    let in_period_visits: Vec<usize> = (0..visits.len()).filter(|&i| in_period(&visits[i])).collect();
    if let Some(policy) = visits.iter().map(|v| v.begin.date()).max().and_then(policy_on) {
        if policy.action(RuleId::PeerOutlier).is_some() {
            out.extend(peer_outliers(visits, &in_period_visits, policy));
        }
        if policy.action(RuleId::CoVisitGroup).is_some() {
            out.extend(co_visit_groups(visits, &in_period_visits, policy));
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
        institution_level: false,
    }
}

/// One institution's figures for one setting over the period.
#[derive(Default)]
struct Figures {
    first_visit: usize,
    cases: i64,
    total_fen: i128,
    drug_fen: i128,
    persons: FxHashSet<usize>,
}

/// The median of sorted integers (the lower middle for an even count: exact, no halves).
fn median(sorted: &[i128]) -> i128 {
    sorted[(sorted.len() - 1) / 2]
}

/// 同级比较: for each setting and institution level, each institution's cost per case, drug
/// share and visits per person against its peers' median, by robust z-score
/// (0.6745 × (x − median) / MAD, in integers). Only high outliers are suspicions.
fn peer_outliers(visits: &[ScreenVisit], period: &[usize], policy: &MonitorPolicy) -> Vec<Suspicion> {
    let t = &policy.thresholds;
    let (Some(z_min), Some(group_min), Some(cases_min)) = (t.robust_z_min, t.peer_group_min, t.cases_min) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Institutions against the institutions of their level, then doctors against the doctors
    // of their level (a doctor is named with the institution they work at).
    for by_doctor in [false, true] {
        out.extend(peer_outliers_of(visits, period, by_doctor, z_min, group_min, cases_min));
    }
    out
}

fn peer_outliers_of(
    visits: &[ScreenVisit],
    period: &[usize],
    by_doctor: bool,
    z_min: u16,
    group_min: u16,
    cases_min: u16,
) -> Vec<Suspicion> {
    let mut figures: FxHashMap<(String, CareSetting, HospitalLevel), Figures> = FxHashMap::default();
    let mut person_ids: FxHashMap<&str, usize> = FxHashMap::default();
    for &i in period {
        let v = &visits[i];
        let entity = match (by_doctor, &v.doctor) {
            (false, _) => v.institution.clone(),
            (true, Some(doctor)) => format!("医师{doctor}({})", v.institution),
            (true, None) => continue,
        };
        let next = person_ids.len();
        let person = *person_ids.entry(v.person_no.as_str()).or_insert(next);
        let f = figures.entry((entity, v.setting, v.level)).or_insert_with(|| Figures {
            first_visit: i,
            ..Figures::default()
        });
        f.cases += 1;
        f.persons.insert(person);
        for line in &v.lines {
            f.total_fen += i128::from(line.amount.fen());
            if line.code.starts_with('X') || line.code.starts_with('Z') {
                f.drug_fen += i128::from(line.amount.fen());
            }
        }
    }
    // Metrics in integers: fen per case, drug share in ten-thousandths, visits per person in
    // hundredths.
    type Metric = (&'static str, &'static str, fn(&Figures) -> i128, fn(i128) -> String);
    let metrics: [Metric; 3] = [
        (
            "cost_per_case",
            "次均费用",
            |f| f.total_fen / i128::from(f.cases.max(1)),
            |x| Money::from_fen(x as i64).to_string(),
        ),
        (
            "drug_share",
            "药品费用占比",
            |f| {
                if f.total_fen > 0 {
                    f.drug_fen * 10_000 / f.total_fen
                } else {
                    0
                }
            },
            |x| format!("{}.{:02}%", x / 100, x % 100),
        ),
        (
            "visits_per_person",
            "人次人头比",
            |f| i128::from(f.cases) * 100 / (f.persons.len().max(1) as i128),
            |x| format!("{}.{:02}", x / 100, x % 100),
        ),
    ];
    let mut groups: FxHashMap<(CareSetting, HospitalLevel), Vec<(&str, &Figures)>> = FxHashMap::default();
    for ((entity, setting, level), f) in &figures {
        if f.cases >= i64::from(cases_min) {
            groups.entry((*setting, *level)).or_default().push((entity.as_str(), f));
        }
    }
    let mut out = Vec::new();
    let mut keys: Vec<_> = groups.keys().copied().collect();
    keys.sort_by_key(|(s, l)| (*l, *s == CareSetting::Inpatient));
    for key in keys {
        let members = &groups[&key];
        if members.len() < usize::from(group_min) {
            continue;
        }
        for (name, label, metric, show) in metrics {
            let mut values: Vec<i128> = members.iter().map(|(_, f)| metric(f)).collect();
            values.sort_unstable();
            let med = median(&values);
            let mut deviations: Vec<i128> = values.iter().map(|x| (x - med).abs()).collect();
            deviations.sort_unstable();
            let mad = median(&deviations);
            if mad == 0 {
                continue; // no spread among peers: nothing stands out by a robust measure
            }
            let mut sorted_members: Vec<&(&str, &Figures)> = members.iter().collect();
            sorted_members.sort_by_key(|(n, _)| *n);
            for (institution, f) in sorted_members {
                let x = metric(f);
                // 0.6745 × (x − med) / MAD ≥ z_min, as 6745 × (x − med) ≥ z_min × 10000 × MAD.
                if 6745 * (x - med) < i128::from(z_min) * 10_000 * mad || x <= 0 {
                    continue;
                }
                let z_tenths = 6745 * (x - med) * 10 / (10_000 * mad);
                let excess_fen = f.total_fen * (x - med) / x;
                let setting_zh = if key.0 == CareSetting::Inpatient {
                    "住院"
                } else {
                    "门诊"
                };
                out.push(Suspicion {
                    rule: RuleId::PeerOutlier,
                    severity: RuleId::PeerOutlier.severity(),
                    key: format!(
                        "{}|{institution}|{setting_zh}|{name}|{}",
                        RuleId::PeerOutlier,
                        visits[f.first_visit].begin.date()
                    ),
                    visit: f.first_visit,
                    other: None,
                    lines: Vec::new(),
                    amount: Money::from_fen(i64::try_from(excess_fen.max(0)).unwrap_or(i64::MAX)),
                    text: format!(
                        "{institution}{}{setting_zh}{label}{}, 同级{}家中位数{}, 稳健z值{}.{}",
                        key.1.name_zh(),
                        show(x),
                        members.len(),
                        show(med),
                        z_tenths / 10,
                        z_tenths % 10
                    ),
                    basis: format!(
                        "稳健z值=0.6745×(x−中位数)/MAD, 不低于{z_min}为异常; {}例以上参与比较",
                        cases_min
                    ),
                    institution_level: true,
                });
            }
        }
    }
    out
}

/// 结伴就诊: persons seeing one doctor (or, where no doctor is recorded, arriving at one
/// institution in the same hour) on several days. Pairs that
/// shared at least `group_days_min` days are joined into groups; a group of at least
/// `group_persons_min` persons is a suspicion. Hours with a crowd are left out.
fn co_visit_groups(visits: &[ScreenVisit], period: &[usize], policy: &MonitorPolicy) -> Vec<Suspicion> {
    let t = &policy.thresholds;
    let (Some(persons_min), Some(days_min), Some(bucket_max)) =
        (t.group_persons_min, t.group_days_min, t.bucket_persons_max)
    else {
        return Vec::new();
    };
    // (institution, day, doctor or hour) → persons: the same doctor on the same day where the
    // doctor is recorded, else the same hour of arrival.
    let mut buckets: FxHashMap<(&str, NaiveDate, &str, u32), Vec<&str>> = FxHashMap::default();
    for &i in period {
        let v = &visits[i];
        let key = match &v.doctor {
            Some(doctor) => (v.institution.as_str(), v.begin.date(), doctor.as_str(), 24),
            None => (
                v.institution.as_str(),
                v.begin.date(),
                "",
                chrono::Timelike::hour(&v.begin),
            ),
        };
        let persons = buckets.entry(key).or_default();
        if !persons.contains(&v.person_no.as_str()) {
            persons.push(v.person_no.as_str());
        }
    }
    let mut keys: Vec<_> = buckets.keys().copied().collect();
    keys.sort_unstable();
    // (institution, a, b) → (last day counted, days shared).
    let mut pairs: FxHashMap<(&str, &str, &str), (NaiveDate, u32)> = FxHashMap::default();
    for key in keys {
        let mut persons = buckets[&key].clone();
        if persons.len() < 2 || persons.len() > usize::from(bucket_max) {
            continue;
        }
        persons.sort_unstable();
        for (n, a) in persons.iter().enumerate() {
            for b in &persons[n + 1..] {
                let entry = pairs.entry((key.0, a, b)).or_insert((NaiveDate::MIN, 0));
                if entry.0 != key.1 {
                    *entry = (key.1, entry.1 + 1);
                }
            }
        }
    }
    // Groups: connected persons per institution over the pairs that shared enough days.
    let mut edges: Vec<(&str, &str, &str)> = pairs
        .into_iter()
        .filter(|(_, (_, days))| *days >= u32::from(days_min))
        .map(|(k, _)| k)
        .collect();
    edges.sort_unstable();
    let mut parent: FxHashMap<(&str, &str), (&str, &str)> = FxHashMap::default();
    fn root<'a>(
        parent: &mut FxHashMap<(&'a str, &'a str), (&'a str, &'a str)>,
        x: (&'a str, &'a str),
    ) -> (&'a str, &'a str) {
        let mut r = x;
        while let Some(&p) = parent.get(&r) {
            if p == r {
                break;
            }
            r = p;
        }
        parent.insert(x, r);
        r
    }
    for &(inst, a, b) in &edges {
        parent.entry((inst, a)).or_insert((inst, a));
        parent.entry((inst, b)).or_insert((inst, b));
        let (ra, rb) = (root(&mut parent, (inst, a)), root(&mut parent, (inst, b)));
        if ra != rb {
            let (low, high) = if ra < rb { (ra, rb) } else { (rb, ra) };
            parent.insert(high, low);
        }
    }
    let members: Vec<(&str, &str)> = parent.keys().copied().collect();
    let mut components: FxHashMap<(&str, &str), Vec<&str>> = FxHashMap::default();
    for m in members {
        let r = root(&mut parent, m);
        components.entry(r).or_default().push(m.1);
    }
    let mut out = Vec::new();
    let mut roots: Vec<_> = components.keys().copied().collect();
    roots.sort_unstable();
    let mut visits_of: Option<FxHashMap<(&str, &str), Vec<usize>>> = None;
    for r in roots {
        let mut persons = components[&r].clone();
        if persons.len() < usize::from(persons_min) {
            continue;
        }
        persons.sort_unstable();
        let institution = r.0;
        // The members' visits at the institution, from an index made once (not a scan of the
        // period per group).
        let index = visits_of.get_or_insert_with(|| {
            let mut index: FxHashMap<(&str, &str), Vec<usize>> = FxHashMap::default();
            for &i in period {
                index
                    .entry((visits[i].institution.as_str(), visits[i].person_no.as_str()))
                    .or_default()
                    .push(i);
            }
            index
        });
        let mut theirs: Vec<usize> = persons
            .iter()
            .flat_map(|p| index.get(&(institution, *p)).into_iter().flatten().copied())
            .collect();
        theirs.sort_unstable();
        let Some(&first) = theirs.first() else {
            continue;
        };
        out.push(Suspicion {
            rule: RuleId::CoVisitGroup,
            severity: RuleId::CoVisitGroup.severity(),
            key: format!("{}|{institution}|{}", RuleId::CoVisitGroup, persons.join(",")),
            visit: first,
            other: None,
            lines: Vec::new(),
            amount: theirs.iter().map(|&i| visits[i].fund_paid).sum(),
            text: format!(
                "{}人在{institution}结伴就诊{days_min}天以上(同一医师或同一时段): {}",
                persons.len(),
                persons.join("、")
            ),
            basis: format!("{persons_min}人以上在同一机构由同一医师(未记录医师时: 同一小时内)共同就诊{days_min}天以上视为结伴就诊嫌疑"),
            institution_level: true,
        });
    }
    out
}
