//! The engine: one pure function from (policy, catalog, person, year-to-date, account, visit)
//! to a settlement and its deltas. `pre_settle`, `settle` and `reverse` are thin views of it.

use chrono::NaiveDate;
use yibao_catalog::{split_line, Catalog, LineContext, LineSplit, SelfPayReason};
use yibao_codes::{CareSetting, SettlementField};
use yibao_money::{Money, Ratio, RatioPoints, AMOUNT_FEN_MAX};
use yibao_policy::{
    Band, BandBasis, BandScope, Base, Benefit, Bucket, DeductiblePer, Facts, Policy, Stage, Subsequent,
};

use crate::explain::Step;
use crate::input::{
    Accumulator, Person, Visit, YearToDate, ID_LEN_MAX, PERSON_LIST_MAX, REFUSAL_TEXT_CHARS_MAX, STAY_DAYS_MAX,
    VISIT_LINES_MAX,
};
use crate::result::{Deltas, FundPayment, LineResult, PersonalParts, Settlement};
use crate::SettleError;

/// Everything a settlement is computed from.
#[derive(Clone, Copy, Debug)]
pub struct SettleInput<'a> {
    pub policy: &'a Policy,
    pub catalog: &'a Catalog,
    pub person: &'a Person,
    pub ytd: &'a YearToDate,
    pub account_balance: Money,
    /// The balance of the account of the family member this person is bound to for mutual aid
    /// (家庭共济), zero when none. It pays the benefit's `family_account` parts that the
    /// person's own account left.
    pub family_account_balance: Money,
    pub visit: &'a Visit,
}

/// Settles without changing anything: the result a HIS shows before the patient pays (2206/2303).
pub fn pre_settle(input: &SettleInput) -> Result<Settlement, SettleError> {
    compute(input)
}

/// Settles: the same result as [`pre_settle`]; the caller applies `settlement.deltas` to the
/// person's accumulators and account in the same transaction as it stores the settlement.
pub fn settle(input: &SettleInput) -> Result<Settlement, SettleError> {
    compute(input)
}

/// The deltas that undo a stored settlement exactly (2208/2305/2601).
pub fn reverse(settlement: &Settlement) -> Deltas {
    settlement.deltas.inverse()
}

/// The personal burden kept by part, so that each stage can take its base from the parts it
/// covers. Indexed by [`Bucket::index`].
#[derive(Clone, Copy, Debug, Default)]
struct Burden {
    parts: [Money; 6],
    /// Policy-scope spending no primary stage has divided yet.
    undivided: Money,
}

impl Burden {
    fn total(&self) -> Money {
        self.parts.iter().copied().sum::<Money>() + self.undivided
    }
}

/// Working accumulators: year-to-date plus what this settlement has added so far.
struct Working<'a> {
    ytd: &'a YearToDate,
    deltas: Vec<(String, Accumulator)>,
}

impl Working<'_> {
    fn current(&self, key: &str) -> Accumulator {
        let base = self.ytd.get(key);
        match self.deltas.iter().find(|(k, _)| k == key) {
            Some((_, d)) => base.plus(d),
            None => base,
        }
    }

    fn add(&mut self, key: String, delta: Accumulator) {
        match self.deltas.iter_mut().find(|(k, _)| *k == key) {
            Some((_, d)) => *d = d.plus(&delta),
            None => self.deltas.push((key, delta)),
        }
    }
}

fn validate(input: &SettleInput) -> Result<(), SettleError> {
    let visit = input.visit;
    let person = input.person;
    let field = |field: &str, message: String| {
        Err(SettleError::Field {
            field: field.to_owned(),
            message,
        })
    };
    if visit.visit_id.is_empty() || visit.visit_id.len() > ID_LEN_MAX {
        return field("visit_id", format!("就诊ID不能为空且不超过{ID_LEN_MAX}个字符"));
    }
    if person.person_no.is_empty() || person.person_no.len() > ID_LEN_MAX {
        return field("person_no", format!("人员编号不能为空且不超过{ID_LEN_MAX}个字符"));
    }
    if person.groups.len() > PERSON_LIST_MAX || person.chronic_diseases.len() > PERSON_LIST_MAX {
        return field("groups", format!("特殊人群或慢特病备案超过{PERSON_LIST_MAX}项"));
    }
    if visit.lines.is_empty() {
        return field("lines", "没有费用明细".into());
    }
    if visit.lines.len() > VISIT_LINES_MAX {
        return field(
            "lines",
            format!("费用明细{}条,超过单次结算上限{VISIT_LINES_MAX}条", visit.lines.len()),
        );
    }
    if person.birth_date > visit.begin_date {
        return field(
            "begin_date",
            format!("就诊日期{}早于出生日期{}", visit.begin_date, person.birth_date),
        );
    }
    if let Some(end) = visit.end_date {
        if end < visit.begin_date {
            return field("end_date", format!("出院日期{end}早于入院日期{}", visit.begin_date));
        }
        if (end - visit.begin_date).num_days() > STAY_DAYS_MAX {
            return field("end_date", format!("住院天数超过{STAY_DAYS_MAX}天,请中途结算"));
        }
    }
    if !input.policy.is_effective_on(visit.begin_date) {
        return Err(SettleError::PolicyNotEffective {
            policy: input.policy.id(),
            date: visit.begin_date,
        });
    }
    if input.account_balance.is_negative() {
        return field("account_balance", "个人账户余额不能为负".into());
    }
    if input.family_account_balance.is_negative() {
        return field("family_account_balance", "共济账户余额不能为负".into());
    }
    let last_day = visit.end_date.unwrap_or(visit.begin_date);
    let mut seen_sn: Vec<&str> = Vec::with_capacity(visit.lines.len().min(64));
    for (i, line) in visit.lines.iter().enumerate() {
        let at = |name: &str| format!("lines[{i}].{name}");
        if line.sn.is_empty() || line.sn.len() > ID_LEN_MAX {
            return field(&at("sn"), "明细流水号不能为空且不超过64个字符".into());
        }
        // Duplicate line numbers: a linear scan for small visits, sorted check for large.
        if visit.lines.len() <= 64 {
            if seen_sn.contains(&line.sn.as_str()) {
                return field(&at("sn"), format!("明细流水号{}重复", line.sn));
            }
            seen_sn.push(&line.sn);
        }
        if line.quantity.ten_thousandths() <= 0 {
            return field(
                &at("quantity"),
                format!("数量{}必须大于0(退费请撤销明细后重传)", line.quantity),
            );
        }
        if line.price.millionths() < 0 {
            return field(&at("price"), format!("单价{}不能为负", line.price));
        }
        // Each line within the amount bound keeps every sum over a visit within an i64.
        if i128::from(line.price.millionths()) * i128::from(line.quantity.ten_thousandths())
            > i128::from(AMOUNT_FEN_MAX) * 100_000_000
        {
            let max = Money::from_fen(AMOUNT_FEN_MAX);
            return field(
                &at("price"),
                format!("单价{}×数量{}超过单条明细金额上限{max}", line.price, line.quantity),
            );
        }
        if let Some(amount) = line.amount {
            let computed = Money::from_price_quantity(line.price, line.quantity, input.policy.rounding);
            if amount != computed {
                return field(
                    &at("amount"),
                    format!(
                        "明细金额{amount}与单价×数量={}×{}={computed}不符",
                        line.price, line.quantity
                    ),
                );
            }
        }
        if let Some(date) = line.date {
            if date < visit.begin_date || date > last_day {
                return field(
                    &at("date"),
                    format!("费用日期{date}不在就诊期间{}至{last_day}内", visit.begin_date),
                );
            }
        }
        if let Some(d) = &line.disease {
            if d.is_empty() || d.len() > ID_LEN_MAX {
                return field(&at("disease"), "病种编码不能为空且不超过64个字符".into());
            }
        }
        if let Some(r) = &line.refusal {
            let amount = Money::from_price_quantity(line.price, line.quantity, input.policy.rounding);
            if r.amount.fen() <= 0 || r.amount > amount {
                return field(
                    &at("refusal.amount"),
                    format!("拒付金额{}须大于0且不超过明细金额{amount}", r.amount),
                );
            }
            if r.rule_id.is_empty() || r.rule_id.len() > ID_LEN_MAX {
                return field(&at("refusal.rule_id"), "规则编号不能为空且不超过64个字符".into());
            }
            if r.text.chars().count() > REFUSAL_TEXT_CHARS_MAX || r.rule_name.chars().count() > REFUSAL_TEXT_CHARS_MAX {
                return field(
                    &at("refusal.text"),
                    format!("拒付说明不超过{REFUSAL_TEXT_CHARS_MAX}个字符"),
                );
            }
        }
    }
    if visit.lines.len() > 64 {
        let mut sns: Vec<(&str, usize)> = visit
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| (l.sn.as_str(), i))
            .collect();
        sns.sort_unstable();
        // The first line repeating an earlier one's number, as the linear scan reports it.
        if let Some(i) = sns.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| w[1].1).min() {
            return field(
                &format!("lines[{i}].sn"),
                format!("明细流水号{}重复", visit.lines[i].sn),
            );
        }
    }
    Ok(())
}

fn compute(input: &SettleInput) -> Result<Settlement, SettleError> {
    validate(input)?;
    let policy = input.policy;
    let person = input.person;
    let visit = input.visit;
    let year = policy.insurance_year(visit.begin_date);
    if input.ytd.year != year {
        return Err(SettleError::Field {
            field: "ytd.year".into(),
            message: format!("累计信息年度{}与就诊所属医保年度{year}不符", input.ytd.year),
        });
    }
    let in_range = |m: Money| (0..=AMOUNT_FEN_MAX).contains(&m.fen());
    let bad = input
        .ytd
        .accumulators
        .iter()
        .position(|(_, a)| ![a.deductible, a.fund, a.base].into_iter().all(in_range));
    if let Some(i) = bad {
        return Err(SettleError::Field {
            field: format!("ytd.accumulators[{i}]"),
            message: format!("累计金额必须在0到{}之间", Money::from_fen(AMOUNT_FEN_MAX)),
        });
    }
    let age_years = person.age_years_on(visit.begin_date);
    let groups = person.groups.iter().copied().collect();
    let mut facts = Facts {
        insurance: person.insurance,
        person_type: person.person_type,
        tier: person.tier,
        groups,
        civil_servant: person.civil_servant,
        age_years,
        medical_type: visit.medical_type,
        level: visit.level,
        in_county: visit.in_county,
        referred: visit.referred,
        disease: None,
    };
    let benefit = policy.benefit_for(&facts).ok_or_else(|| SettleError::NoBenefit {
        insurance: person.insurance.code(),
        medical_type: visit.medical_type.code(),
        policy: policy.id(),
    })?;
    let inpatient = visit.medical_type.setting() == CareSetting::Inpatient;

    // 1. Split every line by the catalog.
    let context = LineContext {
        sex: person.sex,
        age_years,
        level: visit.level,
        inpatient,
        insurance: person.insurance,
        rounding: policy.rounding,
    };
    let mut lines = Vec::with_capacity(visit.lines.len());
    // The supervision refusals, explained before the split they feed.
    let mut refused: Vec<Step> = Vec::new();
    let mut days_seen: Vec<(&str, Vec<NaiveDate>)> = Vec::new();
    for (i, line) in visit.lines.iter().enumerate() {
        let item = input.catalog.get(&line.code).ok_or_else(|| SettleError::UnknownItem {
            field: format!("lines[{i}].code"),
            code: line.code.chars().take(ID_LEN_MAX).collect(),
        })?;
        let amount = Money::from_price_quantity(line.price, line.quantity, policy.rounding);
        let day_number = match item.restriction.days_max {
            Some(_) => {
                let date = line.date.unwrap_or(visit.begin_date);
                let i = match days_seen.iter().position(|(c, _)| *c == line.code) {
                    Some(i) => i,
                    None => {
                        days_seen.push((line.code.as_str(), Vec::new()));
                        days_seen.len() - 1
                    }
                };
                let days = &mut days_seen[i].1;
                if !days.contains(&date) {
                    days.push(date);
                }
                days.iter().position(|d| *d == date).expect("just inserted") as u16 + 1
            }
            None => 1,
        };
        let split = match &line.refusal {
            None => split_line(item, amount, line.price, line.quantity, day_number, &context),
            // Refused whole: nothing of it is in any fund's scope.
            Some(r) if r.amount == amount => LineSplit {
                amount,
                full_self_pay: amount,
                reason: Some(SelfPayReason::Refused),
                ..LineSplit::default()
            },
            // Refused in part (the quantity over a limit, the price over a discount): the rest
            // is split as a line of its own amount, so caps and 乙类 shares apply to it alone.
            Some(r) => {
                let mut split = split_line(item, amount - r.amount, line.price, line.quantity, day_number, &context);
                split.amount = amount;
                split.full_self_pay += r.amount;
                split.reason = split.reason.or(Some(SelfPayReason::Refused));
                split
            }
        };
        if let Some(r) = &line.refusal {
            refused.push(Step::Refused {
                sn: line.sn.as_str().into(),
                rule_id: r.rule_id.as_str().into(),
                rule_name: r.rule_name.as_str().into(),
                text: r.text.as_str().into(),
                amount: r.amount,
            });
        }
        lines.push(LineResult {
            sn: line.sn.clone(),
            code: line.code.clone(),
            split,
        });
    }

    // 2. Group the lines: one group, or one per disease for chronic-disease benefits.
    let groups: Vec<(Option<&str>, Vec<usize>)> = if benefit.split_by_disease {
        let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
        for (i, line) in visit.lines.iter().enumerate() {
            let Some(disease) = line.disease.as_deref() else {
                return Err(SettleError::Field {
                    field: format!("lines[{i}].disease"),
                    message: format!("“{}”按病种结算,每条明细须注明慢特病病种", benefit.name),
                });
            };
            if !person.chronic_diseases.iter().any(|d| d == disease) {
                return Err(SettleError::Field {
                    field: format!("lines[{i}].disease"),
                    message: format!("参保人未备案慢特病病种{disease}"),
                });
            }
            match groups.iter_mut().find(|(d, _)| *d == Some(disease)) {
                Some((_, members)) => members.push(i),
                None => groups.push((Some(disease), vec![i])),
            }
        }
        groups
    } else {
        vec![(None, (0..lines.len()).collect())]
    };

    let waiting_until = person.benefits_from.filter(|from| visit.begin_date < *from);
    let mut steps = Vec::with_capacity(8 + refused.len());
    steps.append(&mut refused);
    let mut working = Working {
        ytd: input.ytd,
        deltas: Vec::new(),
    };
    let mut payments: Vec<FundPayment> = Vec::new();
    let mut totals = LineSplit::default();
    let mut burden_total = Burden::default();
    let mut deductible_total = Money::ZERO;
    let mut pooled_ratio = None;

    for (disease, members) in &groups {
        facts.disease = *disease;
        let mut split = LineSplit::default();
        for &i in members {
            let s = &lines[i].split;
            split.amount += s.amount;
            split.full_self_pay += s.full_self_pay;
            split.over_cap += s.over_cap;
            split.first_self_pay += s.first_self_pay;
            split.policy_scope += s.policy_scope;
        }
        if let Some(d) = disease {
            steps.push(Step::Group {
                disease: (*d).into(),
                total: split.amount,
            });
        }
        steps.push(Step::Lines {
            total: split.amount,
            full_self_pay: split.full_self_pay,
            over_cap: split.over_cap,
            first_self_pay: split.first_self_pay,
            policy_scope: split.policy_scope,
        });
        let mut burden = Burden::default();
        burden.parts[Bucket::FullSelfPay.index()] = split.full_self_pay;
        burden.parts[Bucket::OverCap.index()] = split.over_cap;
        burden.parts[Bucket::FirstSelfPay.index()] = split.first_self_pay;
        burden.undivided = split.policy_scope;

        if let Some(until) = waiting_until {
            steps.push(Step::Waiting { until });
        } else {
            for (index, stage) in benefit.stages.iter().enumerate() {
                let outcome = run_stage(
                    StageRun {
                        policy,
                        benefit,
                        stage,
                        index,
                        facts: &facts,
                        disease: *disease,
                    },
                    &mut burden,
                    &mut working,
                    &mut steps,
                )?;
                if let Some(outcome) = outcome {
                    if stage.base == Base::PolicyScope {
                        deductible_total += outcome.deductible;
                        pooled_ratio.get_or_insert(outcome.first_ratio);
                    }
                    add_payment(&mut payments, stage, *disease, outcome);
                }
            }
        }
        // Policy-scope spending no stage divided stays with the person.
        burden.parts[Bucket::Coinsurance.index()] += burden.undivided;
        burden.undivided = Money::ZERO;
        for b in Bucket::ALL {
            burden_total.parts[b.index()] += burden.parts[b.index()];
        }
        totals.amount += split.amount;
        totals.full_self_pay += split.full_self_pay;
        totals.over_cap += split.over_cap;
        totals.first_self_pay += split.first_self_pay;
        totals.policy_scope += split.policy_scope;
    }

    // 3. The personal account pays the parts it may, then a bound family member's account
    //    (家庭共济) the parts it may of what is left; cash pays the rest.
    let personal = burden_total.total();
    let mut unpaid = burden_total.parts;
    let account_allowed: Money = benefit.account.iter().map(|b| unpaid[b.index()]).sum();
    let account_pay = if visit.use_account {
        account_allowed.min(input.account_balance).max(Money::ZERO)
    } else {
        Money::ZERO
    };
    take_from_parts(&mut unpaid, &benefit.account, account_pay);
    if !benefit.account.is_empty() {
        steps.push(Step::Account {
            balance: input.account_balance,
            allowed: account_allowed,
            pay: account_pay,
            used: visit.use_account,
        });
    }
    let mutual_aid_allowed: Money = benefit.family_account.iter().map(|b| unpaid[b.index()]).sum();
    let mutual_aid_pay = if visit.use_account {
        mutual_aid_allowed.min(input.family_account_balance).max(Money::ZERO)
    } else {
        Money::ZERO
    };
    if !benefit.family_account.is_empty() && input.family_account_balance > Money::ZERO {
        steps.push(Step::MutualAid {
            balance: input.family_account_balance,
            allowed: mutual_aid_allowed,
            pay: mutual_aid_pay,
            used: visit.use_account,
        });
    }
    let cash_pay = personal - account_pay - mutual_aid_pay;
    let fund_total: Money = payments.iter().map(|p| p.amount).sum();
    steps.push(Step::Total {
        total: totals.amount,
        fund: fund_total,
        account: account_pay + mutual_aid_pay,
        cash: cash_pay,
    });

    // Visits and admissions are counted once per settlement on each accumulator it touched.
    for (_, delta) in working.deltas.iter_mut() {
        delta.visits = 1;
        delta.admissions = u32::from(inpatient);
    }
    let settlement = Settlement {
        policy: policy.id(),
        benefit: benefit.id.clone(),
        year,
        total: totals.amount,
        full_self_pay: totals.full_self_pay,
        over_cap: totals.over_cap,
        first_self_pay: totals.first_self_pay,
        policy_scope: totals.policy_scope,
        deductible: deductible_total,
        pooled_ratio: pooled_ratio.unwrap_or(Ratio::ZERO),
        funds: payments,
        fund_total,
        personal,
        personal_parts: PersonalParts {
            full_self_pay: burden_total.parts[Bucket::FullSelfPay.index()],
            over_cap: burden_total.parts[Bucket::OverCap.index()],
            first_self_pay: burden_total.parts[Bucket::FirstSelfPay.index()],
            deductible: burden_total.parts[Bucket::Deductible.index()],
            coinsurance: burden_total.parts[Bucket::Coinsurance.index()],
            above_cap: burden_total.parts[Bucket::AboveCap.index()],
        },
        account_pay,
        mutual_aid_pay,
        cash_pay,
        account_balance_after: input.account_balance - account_pay,
        lines,
        steps,
        deltas: Deltas {
            year,
            accumulators: working.deltas,
            account_pay,
            mutual_aid_pay,
            reversal: false,
        },
    };
    settlement.assert_invariants();
    debug_assert_eq!(settlement.field_total(SettlementField::PersonalAccount), Money::ZERO);
    Ok(settlement)
}

/// Takes `amount` out of the listed parts, in [`Bucket::ALL`] order, so that a later payer sees
/// only what is left of each part. The amount never exceeds the listed parts' sum.
fn take_from_parts(parts: &mut [Money; 6], listed: &[Bucket], amount: Money) {
    let mut left = amount;
    for b in Bucket::ALL.iter().filter(|b| listed.contains(b)) {
        let take = left.min(parts[b.index()]);
        parts[b.index()] -= take;
        left -= take;
    }
    assert!(left.is_zero(), "a payer takes no more than the parts it may pay");
}

fn add_payment(payments: &mut Vec<FundPayment>, stage: &Stage, disease: Option<&str>, outcome: StageOutcome) {
    let label = match disease {
        Some(d) => format!("{}@{d}", stage.id),
        None => stage.id.clone(),
    };
    match payments.iter_mut().find(|p| p.fund == stage.fund) {
        Some(p) => {
            p.stages.push(label);
            p.base += outcome.base;
            p.amount += outcome.pay;
            p.limit_remaining = match (p.limit_remaining, outcome.limit_remaining) {
                (Some(a), Some(b)) => Some(a + b),
                _ => None,
            };
        }
        None => payments.push(FundPayment {
            fund: stage.fund,
            stages: vec![label],
            base: outcome.base,
            limit_remaining: outcome.limit_remaining,
            amount: outcome.pay,
        }),
    }
}

struct StageRun<'a> {
    policy: &'a Policy,
    benefit: &'a Benefit,
    stage: &'a Stage,
    index: usize,
    facts: &'a Facts<'a>,
    disease: Option<&'a str>,
}

struct StageOutcome {
    base: Money,
    pay: Money,
    deductible: Money,
    limit_remaining: Option<Money>,
    first_ratio: Ratio,
}

fn gap(run: &StageRun, what: &str) -> SettleError {
    // The coverage check proves every table answers every ordinary case; a special case it did
    // not enumerate reaching here is a policy defect, refused rather than paid wrongly.
    SettleError::PolicyGap {
        policy: run.policy.id(),
        benefit: run.benefit.id.clone(),
        stage: run.stage.id.clone(),
        what: what.to_owned(),
    }
}

/// Runs one stage on the burden; `None` when the stage does not apply to this visit.
fn run_stage(
    run: StageRun,
    burden: &mut Burden,
    working: &mut Working,
    steps: &mut Vec<Step>,
) -> Result<Option<StageOutcome>, SettleError> {
    let stage = run.stage;
    let facts = run.facts;
    let stage_index = run.index as u16;
    if !stage.when.matches(facts) {
        steps.push(Step::Skipped { stage: stage_index });
        return Ok(None);
    }
    let rounding = run.policy.rounding;
    let mut ratio_add = RatioPoints::ZERO;
    let mut deductible_factor: Option<Ratio> = None;
    let mut no_cap = false;
    for (m_index, modifier) in stage.modifiers.iter().enumerate() {
        if modifier.when.matches(facts) {
            ratio_add = ratio_add + modifier.ratio_add;
            if let Some(f) = modifier.deductible_factor {
                let combined = match deductible_factor {
                    Some(prev) => Money::from_fen(prev.ten_thousandths()).times(f, rounding).fen(),
                    None => f.ten_thousandths(),
                };
                deductible_factor = Ratio::from_ten_thousandths(combined);
            }
            no_cap |= modifier.no_cap;
            steps.push(Step::Modifier {
                stage: stage_index,
                modifier: m_index as u16,
            });
        }
    }

    let key = match run.disease {
        Some(d) if stage.accumulator.contains("{disease}") => stage.accumulator.replace("{disease}", d),
        _ => stage.accumulator.clone(),
    };
    let acc = working.current(&key);

    // The base: what this stage pays a ratio of.
    if matches!(stage.base, Base::Buckets(_)) && !burden.undivided.is_zero() {
        // No primary stage divided the policy-scope amount (it did not apply): all of it is the
        // person's share, which supplementary stages see as coinsurance.
        burden.parts[Bucket::Coinsurance.index()] += burden.undivided;
        burden.undivided = Money::ZERO;
    }
    let (base_gross, listed) = match &stage.base {
        Base::PolicyScope => (burden.undivided, None),
        Base::Buckets(list) => (list.iter().map(|b| burden.parts[b.index()]).sum(), Some(list)),
    };
    if let Some(list) = listed {
        let parts: Vec<(Bucket, Money)> = list.iter().map(|b| (*b, burden.parts[b.index()])).collect();
        steps.push(Step::Base {
            stage: stage_index,
            parts,
            total: base_gross,
        });
    }
    let mut base = base_gross;
    if let Some(table) = &stage.caps.annual_base {
        let limit = table.lookup(facts).ok_or_else(|| gap(&run, "年度纳入费用上限"))?;
        let room = limit.saturating_sub_to_zero(acc.base);
        if base > room {
            steps.push(Step::AnnualBase {
                stage: stage_index,
                limit,
                used: acc.base,
                taken: room,
            });
            base = room;
        }
    }

    // The deductible.
    let mut deductible = Money::ZERO;
    if let Some(rule) = &stage.deductible {
        let mut standard = rule.amount.lookup(facts).ok_or_else(|| gap(&run, "起付线"))?;
        let admission_number = acc.admissions.saturating_add(1);
        if rule.per == DeductiblePer::Admission && admission_number > 1 {
            standard = match &rule.subsequent {
                Some(Subsequent::Factor(f)) => standard.times(*f, rounding),
                Some(Subsequent::Minus { step, floor }) => {
                    let floor = floor.lookup(facts).ok_or_else(|| gap(&run, "起付线下限"))?;
                    let lowered =
                        standard - Money::from_fen(step.fen().saturating_mul(i64::from(admission_number - 1)));
                    lowered.max(floor.min(standard))
                }
                None => standard,
            };
        }
        if let Some(f) = deductible_factor {
            standard = standard.times(f, rounding);
        }
        let mut remaining = match rule.per {
            DeductiblePer::Visit | DeductiblePer::Admission => standard,
            DeductiblePer::Year => standard.saturating_sub_to_zero(acc.deductible),
        };
        if let Some(max) = &rule.annual_max {
            let max = max.lookup(facts).ok_or_else(|| gap(&run, "年度起付线上限"))?;
            remaining = remaining.min(max.saturating_sub_to_zero(acc.deductible));
        }
        deductible = remaining.min(base);
        steps.push(Step::Deductible {
            stage: stage_index,
            standard,
            already: if rule.per == DeductiblePer::Year {
                acc.deductible
            } else {
                Money::ZERO
            },
            applied: deductible,
            admission: if rule.per == DeductiblePer::Admission {
                admission_number
            } else {
                0
            },
        });
    }
    let payable = base - deductible;

    // The bands: where on the band axis this visit's payable spending lies.
    let start = match (stage.band_scope, stage.band_basis) {
        (BandScope::Visit, BandBasis::AfterDeductible) => Money::ZERO,
        (BandScope::Visit, BandBasis::Total) => deductible,
        (BandScope::Year, BandBasis::AfterDeductible) => acc.base.saturating_sub_to_zero(acc.deductible),
        (BandScope::Year, BandBasis::Total) => acc.base + deductible,
    };
    let mut pieces: Vec<(Money, Ratio, Money)> = Vec::with_capacity(stage.bands.len());
    let mut lower = Money::ZERO;
    for band in &stage.bands {
        let portion = band_portion(band, lower, start, payable);
        if let Some(upto) = band.upto {
            lower = upto;
        }
        if portion.is_zero() {
            continue;
        }
        let ratio = band
            .ratio
            .lookup(facts)
            .ok_or_else(|| gap(&run, "支付比例"))?
            .plus_points(ratio_add);
        pieces.push((portion, ratio, portion.times(ratio, rounding)));
    }
    let first_ratio = match stage.bands.first() {
        Some(b) => b
            .ratio
            .lookup(facts)
            .ok_or_else(|| gap(&run, "支付比例"))?
            .plus_points(ratio_add),
        None => Ratio::ZERO,
    };
    let single = pieces.len() == 1;
    for (portion, ratio, pay) in &pieces {
        let minus = if single { deductible } else { Money::ZERO };
        steps.push(Step::Band {
            stage: stage_index,
            gross: *portion + minus,
            minus,
            ratio: *ratio,
            pay: *pay,
        });
    }
    let raw: Money = pieces.iter().map(|(_, _, p)| *p).sum();

    // The caps: fund money, converted back to the spending that consumes them.
    let mut limit: Option<Money> = None;
    if let Some(table) = &stage.caps.annual {
        if !no_cap {
            let annual = table.lookup(facts).ok_or_else(|| gap(&run, "年度限额"))?;
            limit = Some(annual.saturating_sub_to_zero(acc.fund));
        }
    }
    if let Some(table) = &stage.caps.per_visit {
        let per_visit = table.lookup(facts).ok_or_else(|| gap(&run, "单次限额"))?;
        limit = Some(limit.map_or(per_visit, |l| l.min(per_visit)));
    }
    let (pay, above_cap) = match limit {
        Some(limit) if raw > limit => {
            let mut paid = Money::ZERO;
            let mut consumed = Money::ZERO;
            for (portion, ratio, piece_pay) in &pieces {
                if paid + *piece_pay <= limit {
                    paid += *piece_pay;
                    consumed += *portion;
                } else {
                    let rest = limit - paid;
                    let spending = if ratio.is_zero() {
                        *portion
                    } else {
                        Money::largest_base_within(rest, *ratio, rounding, *portion)
                    };
                    consumed += spending;
                    steps.push(Step::Cap {
                        stage: stage_index,
                        limit,
                        raw,
                        rest,
                        ratio: *ratio,
                        spending,
                    });
                    break;
                }
            }
            (limit, payable - consumed)
        }
        _ => (raw, Money::ZERO),
    };
    let coinsurance = payable - above_cap - pay;
    assert!(
        !coinsurance.is_negative(),
        "stage {} paid more than its payable base",
        stage.id
    );

    // Write the outcome back into the burden.
    match &stage.base {
        Base::PolicyScope => {
            burden.parts[Bucket::Deductible.index()] += deductible;
            burden.parts[Bucket::Coinsurance.index()] += coinsurance;
            burden.parts[Bucket::AboveCap.index()] += above_cap + (base_gross - base);
            burden.undivided = Money::ZERO;
        }
        Base::Buckets(list) => {
            let mut rest = pay;
            for b in list {
                let take = rest.min(burden.parts[b.index()]);
                burden.parts[b.index()] -= take;
                rest -= take;
            }
            assert!(rest.is_zero(), "stage {} paid more than its base", stage.id);
        }
    }
    working.add(
        key,
        Accumulator {
            deductible,
            fund: pay,
            base,
            visits: 0,
            admissions: 0,
        },
    );
    Ok(Some(StageOutcome {
        base: base_gross,
        pay,
        deductible,
        limit_remaining: limit,
        first_ratio,
    }))
}

/// The part of `[start, start + amount)` that falls in the band `[lower, band.upto)`.
fn band_portion(band: &Band, lower: Money, start: Money, amount: Money) -> Money {
    let end = start + amount;
    let from = start.max(lower);
    let to = match band.upto {
        Some(upto) => end.min(upto),
        None => end,
    };
    to.saturating_sub_to_zero(from)
}
