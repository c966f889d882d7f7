//! The explanation: each step of a settlement as a bureau writes it for a citizen, e.g.
//! `(50000.00-300.00)×70%=34790.00`. Steps are recorded as numbers while settling (cheap) and
//! rendered to Chinese text on demand with the policy that produced them.

use chrono::NaiveDate;
use yibao_money::{Money, Ratio};
use yibao_policy::{Bucket, Policy};

use crate::result::Settlement;

/// One recorded step. Stage and modifier numbers index the benefit's stages in the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A supervision rule refused (part of) a line: `限性别用药: 男性患者不予支付… -128.00`.
    Refused {
        sn: Box<str>,
        rule_id: Box<str>,
        rule_name: Box<str>,
        text: Box<str>,
        amount: Money,
    },
    /// A chronic-disease group settled on its own.
    Group { disease: Box<str>, total: Money },
    /// The catalog split of the lines.
    Lines {
        total: Money,
        full_self_pay: Money,
        over_cap: Money,
        first_self_pay: Money,
        policy_scope: Money,
    },
    /// Inside a waiting period: no fund pays.
    Waiting { until: NaiveDate },
    /// The stage's conditions are not met.
    Skipped { stage: u16 },
    /// A tilt or reduction applies.
    Modifier { stage: u16, modifier: u16 },
    /// A supplementary stage's base, from the parts of the burden it covers.
    Base {
        stage: u16,
        parts: Vec<(Bucket, Money)>,
        total: Money,
    },
    /// The stage's annual base limit cut the base.
    AnnualBase {
        stage: u16,
        limit: Money,
        used: Money,
        taken: Money,
    },
    Deductible {
        stage: u16,
        standard: Money,
        already: Money,
        applied: Money,
        admission: u32,
    },
    /// `(gross-minus)×ratio=pay`.
    Band {
        stage: u16,
        gross: Money,
        minus: Money,
        ratio: Ratio,
        pay: Money,
    },
    /// The cap bound: `rest` of fund money was left, consumed by `rest÷ratio=spending`.
    Cap {
        stage: u16,
        limit: Money,
        raw: Money,
        rest: Money,
        ratio: Ratio,
        spending: Money,
    },
    Account {
        balance: Money,
        allowed: Money,
        pay: Money,
        used: bool,
    },
    /// 家庭共济: the bound family member's account.
    MutualAid {
        balance: Money,
        allowed: Money,
        pay: Money,
        used: bool,
    },
    Total {
        total: Money,
        fund: Money,
        account: Money,
        cash: Money,
    },
}

impl Settlement {
    /// The explanation in Chinese, one line per step. `policy` must be the version that
    /// produced the settlement (its id is recorded in `self.policy`).
    pub fn explain(&self, policy: &Policy) -> Vec<String> {
        assert_eq!(policy.id(), self.policy, "explain with the policy version that settled");
        let benefit = policy.benefits.iter().find(|b| b.id == self.benefit);
        let stage_name = |i: u16| -> String {
            benefit
                .and_then(|b| b.stages.get(usize::from(i)))
                .map_or_else(|| format!("阶段{i}"), |s| s.name.clone())
        };
        let mut out = Vec::with_capacity(self.steps.len() + 1);
        if let Some(b) = benefit {
            out.push(format!(
                "适用政策: {} {}(版本{}),待遇: {}",
                policy.name, policy.region, policy.version, b.name
            ));
        }
        for step in &self.steps {
            let text = match step {
                Step::Refused {
                    sn,
                    rule_id,
                    rule_name,
                    text,
                    amount,
                } => format!("明细{sn} {rule_name}({rule_id}): {text} -{amount}(转全自费)"),
                Step::Group { disease, total } => format!("【病种{disease}】费用{total},单独结算"),
                Step::Lines { total, full_self_pay, over_cap, first_self_pay, policy_scope } => format!(
                    "医疗费总额{total}=全自费{full_self_pay}+超限价自付{over_cap}+乙类先行自付{first_self_pay}+政策范围内费用{policy_scope}"
                ),
                Step::Waiting { until } => format!("待遇等待期内(自{until}起享受待遇),基金不予支付"),
                Step::Skipped { stage } => format!("{}: 不符合享受条件,不予支付", stage_name(*stage)),
                Step::Modifier { stage, modifier } => {
                    let note = benefit
                        .and_then(|b| b.stages.get(usize::from(*stage)))
                        .and_then(|s| s.modifiers.get(usize::from(*modifier)))
                        .map_or("", |m| m.note.as_str());
                    format!("{}: 适用倾斜政策——{note}", stage_name(*stage))
                }
                Step::Base { stage, parts, total } => {
                    let listed: Vec<String> = parts
                        .iter()
                        .filter(|(_, m)| !m.is_zero())
                        .map(|(b, m)| format!("{}{m}", b.name_zh()))
                        .collect();
                    let sum = if listed.is_empty() { "0.00".to_owned() } else { listed.join("+") };
                    format!("{}计算基数: {sum}={total}", stage_name(*stage))
                }
                Step::AnnualBase { stage, limit, used, taken } => format!(
                    "{}: 年度纳入费用上限{limit},本年已纳入{used},本次纳入{taken}",
                    stage_name(*stage)
                ),
                Step::Deductible { stage, standard, already, applied, admission } => {
                    let mut t = format!("{}起付线{standard}", stage_name(*stage));
                    if *admission > 0 {
                        t.push_str(&format!("(本年第{admission}次住院)"));
                    }
                    if !already.is_zero() {
                        t.push_str(&format!(",本年已累计{already}"));
                    }
                    t.push_str(&format!(",本次计入起付线{applied}"));
                    t
                }
                Step::Band { stage, gross, minus, ratio, pay } => {
                    if minus.is_zero() {
                        format!("{}: {gross}×{ratio}={pay}", stage_name(*stage))
                    } else {
                        format!("{}: ({gross}-{minus})×{ratio}={pay}", stage_name(*stage))
                    }
                }
                Step::Cap { stage, limit, raw, rest, ratio, spending } => {
                    let share = spending.times(*ratio, policy.rounding);
                    format!(
                        "{}: 按比例应付{raw},超过剩余支付限额{limit},按限额支付;剩余限额{rest}对应的限额内费用为{spending}({spending}×{ratio}={share}),其余费用进入封顶线以上",
                        stage_name(*stage)
                    )
                }
                Step::Account { balance, allowed, pay, used } => {
                    if *used {
                        format!("个人账户: 余额{balance},可支付个人负担{allowed},支付{pay},余额{}", *balance - *pay)
                    } else {
                        format!("个人账户: 本次不使用个人账户(余额{balance})")
                    }
                }
                Step::MutualAid { balance, allowed, pay, used } => {
                    if *used {
                        format!("家庭共济账户: 余额{balance},可支付个人负担{allowed},支付{pay},余额{}", *balance - *pay)
                    } else {
                        format!("家庭共济账户: 本次不使用个人账户(余额{balance})")
                    }
                }
                Step::Total { total, fund, account, cash } => format!(
                    "合计: 医疗费总额{total}=基金支付{fund}+个人账户{account}+个人现金{cash}"
                ),
            };
            out.push(text);
        }
        out
    }
}
