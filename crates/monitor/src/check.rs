//! The real-time check (事前提醒 3101, 事中审核 3102 and settlement itself): one claim against
//! the knowledge base, with the rules the region runs. Each finding names its rule, the lines it
//! found (违规项) and the lines that make them violations (涉及项), the amount at stake and the
//! evidence.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rustc_hash::FxHashMap;
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, Sex};
use yibao_money::{Money, Price, Quantity, Ratio, Rounding};

use crate::knowledge::{AgeGroup, Constraint, DuplicateWindow, KnowledgeBase, Point, SchemeOnly, Source};
use crate::rules::{Action, MonitorPolicy, RuleId, Severity};

/// The most lines one claim may carry (the settlement engine's bound).
pub const CLAIM_LINES_MAX: usize = 20_000;

/// The claim as the rules see it.
#[derive(Clone, Copy, Debug)]
pub struct Claim<'a> {
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub insurance: InsuranceType,
    pub setting: CareSetting,
    pub level: HospitalLevel,
    /// The visit's first day (age is taken on it).
    pub begin_date: NaiveDate,
    pub lines: &'a [ClaimLine],
}

/// One fee line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimLine {
    pub sn: String,
    pub code: String,
    pub quantity: Quantity,
    pub price: Price,
    pub amount: Money,
    pub at: NaiveDateTime,
    /// The item's listed price (the catalog's), for rules about discounted prices.
    pub list_price: Option<Price>,
}

/// A line's part in a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// 违规项: the line breaks the rule; `amount` of it is at stake.
    Violating,
    /// 涉及项: the line that makes another a violation (a master item, the main operation).
    Involved,
}

impl Role {
    /// `vola_item_type`.
    pub fn code(self) -> &'static str {
        match self {
            Role::Violating => "1",
            Role::Involved => "2",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FindingLine {
    /// Index into the claim's lines.
    pub line: usize,
    pub role: Role,
    /// The amount at stake on this line (zero for involved lines).
    pub amount: Money,
}

/// One violation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: RuleId,
    pub severity: Severity,
    pub action: Action,
    pub lines: Vec<FindingLine>,
    /// The sum of the violating lines' amounts at stake (`vola_amt`).
    pub amount_at_stake: Money,
    /// What was found, for the HIS and the patient (`vola_cont`), e.g. `男性患者不予支付: 艾附暖宫丸限女性使用`.
    pub text: String,
    /// The knowledge point it rests on (`vola_evid`), e.g. `两库第一批 药品规则库(限定性别对象) 第12行`.
    pub basis: String,
}

/// Whole years between a birth date and `date`.
pub fn age_years(birth_date: NaiveDate, date: NaiveDate) -> u16 {
    let mut years = date.year() - birth_date.year();
    if (date.month(), date.day()) < (birth_date.month(), birth_date.day()) {
        years -= 1;
    }
    years.clamp(0, 200) as u16
}

/// Checks a claim with every rule the region runs in real time (action refuse or warn).
/// Findings come in line order, then rule order.
pub fn check_claim(kb: &KnowledgeBase, policy: &MonitorPolicy, claim: &Claim, rounding: Rounding) -> Vec<Finding> {
    assert!(claim.lines.len() <= CLAIM_LINES_MAX, "claims are bounded at the edge");
    let realtime = |rule: RuleId| policy.action(rule).filter(|a| a.is_realtime());
    let mut out = Vec::new();
    let age = age_years(claim.birth_date, claim.begin_date);
    let age_days = (claim.begin_date - claim.birth_date).num_days();
    let t = &policy.thresholds;
    // Lines by code, in time order, for the rules that count (course, cycle, frequency).
    let mut by_code: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, line) in claim.lines.iter().enumerate() {
        let points = kb.points(&line.code);
        if !points.is_empty() || kb.in_pair(&line.code) {
            by_code.entry(line.code.as_str()).or_default().push(i);
        }
        for point in points {
            let single = |rule: RuleId, text: String| -> Option<Finding> {
                let action = realtime(rule)?;
                Some(finding(
                    rule,
                    action,
                    vec![violating(i, line.amount)],
                    text,
                    basis(kb, &point.source),
                ))
            };
            let found = match &point.constraint {
                Constraint::DrugSex(sex) | Constraint::ItemSex(sex) if *sex != claim.sex => {
                    let rule = if matches!(point.constraint, Constraint::DrugSex(_)) {
                        RuleId::DrugSex
                    } else {
                        RuleId::ItemSex
                    };
                    single(
                        rule,
                        format!(
                            "{}性患者不予支付: {}限{}性使用",
                            claim.sex.name_zh(),
                            point.source.name,
                            sex.name_zh()
                        ),
                    )
                }
                Constraint::DrugChild => match t.child_age_years_max {
                    Some(max) if age > max => single(
                        RuleId::DrugAge,
                        format!("{age}岁患者不予支付: {}限儿童({max}岁及以下)使用", point.source.name),
                    ),
                    _ => None,
                },
                Constraint::ItemAge(group) => {
                    let (over, limit) = match group {
                        AgeGroup::Neonate => (
                            t.neonate_days_max.is_some_and(|m| age_days > i64::from(m)),
                            t.neonate_days_max.map(|m| format!("出生{m}天内")),
                        ),
                        AgeGroup::Infant => (
                            t.infant_age_years_max.is_some_and(|m| age > m),
                            t.infant_age_years_max.map(|m| format!("{m}岁及以下")),
                        ),
                        AgeGroup::Child => (
                            t.child_age_years_max.is_some_and(|m| age > m),
                            t.child_age_years_max.map(|m| format!("{m}岁及以下")),
                        ),
                    };
                    match (over, limit) {
                        (true, Some(limit)) => single(
                            RuleId::ItemAge,
                            format!(
                                "{age}岁患者不予支付: {}限{}({limit})",
                                point.source.name,
                                group.name_zh()
                            ),
                        ),
                        _ => None,
                    }
                }
                Constraint::ItemWorkingAge => match t.working_age_years_max {
                    Some(max) if age > max => single(
                        RuleId::ItemWorkingAge,
                        format!("{age}岁患者不予支付: {}限法定就业年龄({max}岁)以内", point.source.name),
                    ),
                    _ => None,
                },
                Constraint::DrugScheme(only) => {
                    let paid_by_its_scheme =
                        *only == SchemeOnly::Maternity && claim.insurance == InsuranceType::Maternity;
                    if paid_by_its_scheme {
                        None
                    } else {
                        single(
                            RuleId::DrugScheme,
                            format!(
                                "{}不予支付: {}限{}支付",
                                claim.insurance.name_zh(),
                                point.source.name,
                                only.name_zh()
                            ),
                        )
                    }
                }
                Constraint::DrugInpatientOnly if claim.setting != CareSetting::Inpatient => single(
                    RuleId::DrugSetting,
                    format!("门诊不予支付: {}限住院使用", point.source.name),
                ),
                Constraint::DrugLevel(min) if claim.level < *min => single(
                    RuleId::DrugLevel,
                    format!(
                        "{}医疗机构不予支付: {}限{}及以上医疗机构使用",
                        claim.level.name_zh(),
                        point.source.name,
                        min.name_zh()
                    ),
                ),
                _ => None,
            };
            out.extend(found);
        }
    }
    // The rules that count charges of one code over the visit.
    let mut codes: Vec<(&str, Vec<usize>)> = by_code.into_iter().collect();
    codes.sort_unstable_by_key(|(_, lines)| lines[0]);
    for (code, lines) in &mut codes {
        lines.sort_by_key(|&i| (claim.lines[i].at, i));
        for point in kb.points(code) {
            match point.constraint {
                Constraint::DrugCourse { days_max } => {
                    if let Some(action) = realtime(RuleId::DrugCourse) {
                        out.extend(course_finding(
                            kb,
                            claim,
                            lines,
                            point,
                            days_max,
                            None,
                            RuleId::DrugCourse,
                            action,
                        ));
                    }
                }
                Constraint::ItemCourse {
                    days_max,
                    interval_days_min,
                } => {
                    if let Some(action) = realtime(RuleId::ItemCourse) {
                        out.extend(course_finding(
                            kb,
                            claim,
                            lines,
                            point,
                            days_max,
                            interval_days_min,
                            RuleId::ItemCourse,
                            action,
                        ));
                    }
                }
                Constraint::ItemCycle { count_max, cycle_days } => {
                    if let Some(action) = realtime(RuleId::ItemCycle) {
                        out.extend(cycle_finding(
                            kb, claim, lines, point, count_max, cycle_days, action, rounding,
                        ));
                    }
                }
                Constraint::Frequency { cap, unit } => {
                    if let Some(action) = realtime(RuleId::Frequency) {
                        out.extend(frequency_findings(
                            kb,
                            claim,
                            lines,
                            point,
                            cap,
                            unit.name_zh(),
                            action,
                            rounding,
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(action) = realtime(RuleId::DuplicateCharge) {
        out.extend(duplicate_findings(kb, claim, &codes, action));
    }
    if let (Some(action), Some(ratio)) = (realtime(RuleId::SameIncision), t.secondary_price_ratio) {
        out.extend(same_incision_findings(kb, claim, ratio, action, rounding));
    }
    out.sort_by_key(|f| {
        (
            f.lines
                .iter()
                .find(|l| l.role == Role::Violating)
                .map_or(usize::MAX, |l| l.line),
            f.rule,
        )
    });
    for f in &out {
        assert_eq!(
            f.amount_at_stake,
            f.lines.iter().map(|l| l.amount).sum::<Money>(),
            "a finding's amount at stake is its lines' amounts"
        );
        assert!(
            f.lines
                .iter()
                .all(|l| l.amount <= claim.lines[l.line].amount && !l.amount.is_negative()),
            "no line has more at stake than its amount"
        );
    }
    out
}

fn violating(line: usize, amount: Money) -> FindingLine {
    FindingLine {
        line,
        role: Role::Violating,
        amount,
    }
}

fn involved(line: usize) -> FindingLine {
    FindingLine {
        line,
        role: Role::Involved,
        amount: Money::ZERO,
    }
}

fn finding(rule: RuleId, action: Action, lines: Vec<FindingLine>, text: String, basis: String) -> Finding {
    Finding {
        rule,
        severity: rule.severity(),
        action,
        amount_at_stake: lines.iter().map(|l| l.amount).sum(),
        lines,
        text,
        basis,
    }
}

fn basis(kb: &KnowledgeBase, source: &Source) -> String {
    let library = kb
        .files
        .get(usize::from(source.file))
        .map_or_else(String::new, |f| format!("两库第{}批 {} ", f.batch, f.library));
    if source.remark.is_empty() {
        format!("{library}第{}行 {}", source.line, source.name)
    } else {
        format!("{library}第{}行 {}: {}", source.line, source.name, source.remark)
    }
}

/// Quantity beyond `cap` as a money amount at the line's price.
fn excess_amount(line: &ClaimLine, excess: Quantity, rounding: Rounding) -> Money {
    if excess.ten_thousandths() >= line.quantity.ten_thousandths() {
        return line.amount;
    }
    Money::from_price_quantity(line.price, excess, rounding).min(line.amount)
}

/// Paid days over a limit: the lines on days after the first `days_max` (drugs: distinct paid
/// days; items: calendar days from the first), and charges closer together than the interval.
#[allow(clippy::too_many_arguments)]
fn course_finding(
    kb: &KnowledgeBase,
    claim: &Claim,
    lines: &[usize],
    point: &Point,
    days_max: u16,
    interval_days_min: Option<u16>,
    rule: RuleId,
    action: Action,
) -> Option<Finding> {
    let first = claim.lines[lines[0]].at.date();
    let mut paid_days: Vec<NaiveDate> = Vec::new();
    let mut last_paid: Option<NaiveDate> = None;
    let mut over = Vec::new();
    let mut too_soon = false;
    for &i in lines {
        let day = claim.lines[i].at.date();
        let beyond = if rule == RuleId::DrugCourse {
            if !paid_days.contains(&day) {
                paid_days.push(day);
            }
            paid_days.len() > usize::from(days_max)
        } else {
            (day - first).num_days() >= i64::from(days_max)
        };
        let close = match (interval_days_min, last_paid) {
            (Some(min), Some(prev)) if day != prev => (day - prev).num_days() < i64::from(min),
            _ => false,
        };
        if beyond || close {
            too_soon |= close && !beyond;
            over.push(violating(i, claim.lines[i].amount));
        } else {
            last_paid = Some(day);
        }
    }
    if over.is_empty() {
        return None;
    }
    let mut text = format!("{}支付不超过{days_max}天", point.source.name);
    if let (true, Some(min)) = (too_soon, interval_days_min) {
        text.push_str(&format!(",间隔不短于{min}天"));
    }
    text.push_str(&format!(",超出部分不予支付({}条明细)", over.len()));
    Some(finding(rule, action, over, text, basis(kb, &point.source)))
}

/// At most `count_max` charges in any `cycle_days` days.
#[allow(clippy::too_many_arguments)]
fn cycle_finding(
    kb: &KnowledgeBase,
    claim: &Claim,
    lines: &[usize],
    point: &Point,
    count_max: u16,
    cycle_days: u16,
    action: Action,
    rounding: Rounding,
) -> Option<Finding> {
    // Counted charges (day, whole units) inside the window.
    let mut counted: Vec<(NaiveDate, i64)> = Vec::new();
    let mut over = Vec::new();
    for &i in lines {
        let line = &claim.lines[i];
        let day = line.at.date();
        counted.retain(|(d, _)| (day - *d).num_days() < i64::from(cycle_days));
        let used: i64 = counted.iter().map(|(_, n)| n).sum();
        let units = (line.quantity.ten_thousandths() + 9_999) / 10_000;
        let room = (i64::from(count_max) - used).max(0);
        if units > room {
            let excess = Quantity::whole(units - room).min(line.quantity);
            over.push(violating(i, excess_amount(line, excess, rounding)));
        }
        if room > 0 {
            counted.push((day, units.min(room)));
        }
    }
    if over.is_empty() {
        return None;
    }
    let text = format!(
        "{}每{cycle_days}天限{count_max}次,周期内重复{}条不予支付",
        point.source.name,
        over.len()
    );
    Some(finding(RuleId::ItemCycle, action, over, text, basis(kb, &point.source)))
}

/// At most `cap` per calendar day: the quantity beyond it, taken from the day's last lines.
#[allow(clippy::too_many_arguments)]
fn frequency_findings(
    kb: &KnowledgeBase,
    claim: &Claim,
    lines: &[usize],
    point: &Point,
    cap: Quantity,
    unit: &str,
    action: Action,
    rounding: Rounding,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let day = claim.lines[lines[start]].at.date();
        let end = start
            + lines[start..]
                .iter()
                .take_while(|&&i| claim.lines[i].at.date() == day)
                .count();
        let total: i64 = lines[start..end]
            .iter()
            .map(|&i| claim.lines[i].quantity.ten_thousandths())
            .sum();
        let mut excess = total - cap.ten_thousandths();
        if excess > 0 {
            let mut over = Vec::new();
            for &i in lines[start..end].iter().rev() {
                if excess <= 0 {
                    break;
                }
                let line = &claim.lines[i];
                let taken = excess.min(line.quantity.ten_thousandths());
                excess -= taken;
                over.push(violating(
                    i,
                    excess_amount(line, Quantity::from_ten_thousandths(taken), rounding),
                ));
            }
            over.reverse();
            let text = format!(
                "{}每日限{}{unit},{day}计{}{unit},超出部分不予支付",
                point.source.name,
                cap,
                Quantity::from_ten_thousandths(total)
            );
            out.push(finding(RuleId::Frequency, action, over, text, basis(kb, &point.source)));
        }
        start = end;
    }
    out
}

/// 重复收费: a slave item charged within the pair's window of its master item. Lines of a code
/// are in time order, so the master lines near a slave line are found by binary search: a stay
/// of 20,000 lines costs n·log n, not n².
fn duplicate_findings(kb: &KnowledgeBase, claim: &Claim, codes: &[(&str, Vec<usize>)], action: Action) -> Vec<Finding> {
    let lines_of = |code: &str| codes.iter().find(|(c, _)| *c == code).map(|(_, l)| l.as_slice());
    let mut out = Vec::new();
    let mut found: rustc_hash::FxHashSet<usize> = rustc_hash::FxHashSet::default();
    for (code, slaves) in codes {
        for pair in kb.pairs_with_slave(code) {
            let Some(masters) = lines_of(&pair.master_code) else {
                continue;
            };
            for &s in slaves {
                if found.contains(&s) {
                    continue; // one finding per duplicated line, even where two pairs name it
                }
                let at = claim.lines[s].at;
                let (from, to) = match pair.window {
                    DuplicateWindow::SameDay => {
                        let day = at.date().and_hms_opt(0, 0, 0).unwrap_or(at);
                        (day, day + chrono::Duration::days(1))
                    }
                    DuplicateWindow::SameVisit => (NaiveDateTime::MIN, NaiveDateTime::MAX),
                    DuplicateWindow::Hours(h) => {
                        let h = chrono::Duration::hours(i64::from(h));
                        (at - h, at + h + chrono::Duration::nanoseconds(1))
                    }
                    DuplicateWindow::SameHour => {
                        let hour = at.date().and_hms_opt(at.hour(), 0, 0).unwrap_or(at);
                        (hour, hour + chrono::Duration::hours(1))
                    }
                };
                // The first master line at or after `from`, if it is before `to`.
                let first = masters.partition_point(|&m| claim.lines[m].at < from);
                let Some(&m) = masters.get(first).filter(|&&m| claim.lines[m].at < to) else {
                    continue;
                };
                found.insert(s);
                let text = format!(
                    "{}({})已含{},重复收费不予支付",
                    pair.master_name,
                    pair.window.name_zh(),
                    pair.slave_name
                );
                out.push(finding(
                    RuleId::DuplicateCharge,
                    action,
                    vec![violating(s, claim.lines[s].amount), involved(m)],
                    text,
                    basis(kb, &pair.source),
                ));
            }
        }
    }
    out
}

/// Operations of one group on one day: (group, day) and the lines with their points.
type IncisionGroup<'a> = ((&'a str, NaiveDate), Vec<(usize, &'a Point)>);

/// 同一切口: of two or more operations of one group on one day, the dearest is the main one;
/// each other must be charged at most `ratio` of its listed price.
fn same_incision_findings(
    kb: &KnowledgeBase,
    claim: &Claim,
    ratio: Ratio,
    action: Action,
    rounding: Rounding,
) -> Vec<Finding> {
    let mut groups: Vec<IncisionGroup> = Vec::new();
    for (i, line) in claim.lines.iter().enumerate() {
        for point in kb.points(&line.code) {
            if let Constraint::SameIncision { group } = &point.constraint {
                let key = (&**group, line.at.date());
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, members)) => members.push((i, point)),
                    None => groups.push((key, vec![(i, point)])),
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((group, _), members) in groups {
        if members.len() < 2 {
            continue;
        }
        let main = members
            .iter()
            .max_by_key(|(i, _)| (claim.lines[*i].amount, std::cmp::Reverse(*i)))
            .map(|(i, _)| *i)
            .unwrap_or(members[0].0);
        for (i, point) in &members {
            let line = &claim.lines[*i];
            let Some(list) = line.list_price.filter(|_| *i != main) else {
                continue;
            };
            let allowed = Money::from_price_quantity(list, line.quantity, rounding).times(ratio, rounding);
            if line.amount > allowed {
                let at_stake = line.amount - allowed;
                let text = format!(
                    "{group}同一切口的第二及以后手术应按{}%计价: {}计{},应不超过{allowed}",
                    ratio.ten_thousandths() / 100,
                    point.source.name,
                    line.amount
                );
                out.push(finding(
                    RuleId::SameIncision,
                    action,
                    vec![violating(*i, at_stake), involved(main)],
                    text,
                    basis(kb, &point.source),
                ));
            }
        }
    }
    out
}
