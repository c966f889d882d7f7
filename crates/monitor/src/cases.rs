//! Cases (案件): suspicions become a clue, the clue is reviewed, and an auditor decides it:
//! dismissed, or confirmed with the amount to recover (追回), a fine within Regulation 735's grid,
//! a suspension of the agreement, points on the responsible doctor (医保医师记分) and on the
//! institution's credit. Steps are appended, never changed; a decided case changes only by a
//! new step that reopens it.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use yibao_money::{Money, Rounding};

/// The most suspicions one case gathers.
pub const CASE_SUSPICIONS_MAX: usize = 1_000;
/// The most steps one case may take (open, review, decide, reopen … ).
pub const CASE_STEPS_MAX: usize = 100;
/// The longest note or reason, in characters.
pub const CASE_TEXT_CHARS_MAX: usize = 1_000;

/// Who acts on a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// 经办: reads cases.
    Clerk,
    /// 稽核: opens, reviews and decides cases.
    Auditor,
    /// 财务: reads cases (recoveries reach the books).
    Finance,
    /// 管理员: everything an auditor may.
    Admin,
}

impl StaffRole {
    pub fn name_zh(self) -> &'static str {
        match self {
            StaffRole::Clerk => "经办",
            StaffRole::Auditor => "稽核",
            StaffRole::Finance => "财务",
            StaffRole::Admin => "管理员",
        }
    }

    pub fn parse(text: &str) -> Option<StaffRole> {
        match text {
            "clerk" => Some(StaffRole::Clerk),
            "auditor" => Some(StaffRole::Auditor),
            "finance" => Some(StaffRole::Finance),
            "admin" => Some(StaffRole::Admin),
            _ => None,
        }
    }

    fn decides(self) -> bool {
        matches!(self, StaffRole::Auditor | StaffRole::Admin)
    }
}

/// Where a case stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// 线索: opened from suspicions, not yet reviewed.
    Clue,
    /// 核查中.
    Review,
    /// 已排除: no violation.
    Dismissed,
    /// 已认定: violation confirmed, sanctions decided.
    Confirmed,
}

impl CaseStatus {
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseStatus::Clue => "线索",
            CaseStatus::Review => "核查中",
            CaseStatus::Dismissed => "已排除",
            CaseStatus::Confirmed => "已认定",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Clue => "clue",
            CaseStatus::Review => "review",
            CaseStatus::Dismissed => "dismissed",
            CaseStatus::Confirmed => "confirmed",
        }
    }

    pub fn parse(code: &str) -> Option<CaseStatus> {
        [
            CaseStatus::Clue,
            CaseStatus::Review,
            CaseStatus::Dismissed,
            CaseStatus::Confirmed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    pub fn is_decided(self) -> bool {
        matches!(self, CaseStatus::Dismissed | CaseStatus::Confirmed)
    }
}

/// The article of 《医疗保障基金使用监督管理条例》(国务院令第735号) a confirmed violation falls
/// under; it sets the fine's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Article {
    /// 第三十八条: violations that cause a fund loss (分解住院, 挂床, 重复收费, 超标准收费 …):
    /// recover, fine 1–2 times the loss; suspension 6–12 months when serious.
    #[serde(rename = "38")]
    Art38,
    /// 第三十九条: management failures: fine 10,000–50,000 元 after refusing to correct.
    #[serde(rename = "39")]
    Art39,
    /// 第四十条: fraud (骗保): recover, fine 2–5 times the amount; suspension 6–12 months up to
    /// termination of the agreement.
    #[serde(rename = "40")]
    Art40,
}

impl Article {
    pub fn name_zh(self) -> &'static str {
        match self {
            Article::Art38 => "第三十八条",
            Article::Art39 => "第三十九条",
            Article::Art40 => "第四十条",
        }
    }
}

/// A fine as a multiple of the loss, in hundredths ("1.5" is 150): exact, at most 2 decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Multiple(u32);

impl Multiple {
    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// Parses "1.5", "2", "1.25" (at most two decimals, at most 100).
    pub fn parse(text: &str) -> Option<Multiple> {
        // Money reads exactly two decimals: the same digits as hundredths of a multiple.
        let scaled = Money::parse_yuan(text).ok()?.fen();
        (0..=10_000).contains(&scaled).then_some(Multiple(scaled as u32))
    }
}

impl std::fmt::Display for Multiple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => write!(f, "{whole}"),
            f2 if f2 % 10 == 0 => write!(f, "{whole}.{}", f2 / 10),
            f2 => write!(f, "{whole}.{f2:02}"),
        }
    }
}

impl Serialize for Multiple {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Multiple {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Multiple, D::Error> {
        let text = yibao_money::deserialize_decimal_text(d)?;
        Multiple::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("“{text}”应为至多两位小数的倍数")))
    }
}

/// An auditor's decision on a confirmed case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    pub article: Article,
    /// 追回: what the institution returns to the funds.
    pub recovery: Money,
    /// Articles 38 and 40: the fine as a multiple of the recovery (e.g. "1.5").
    #[serde(default)]
    pub penalty_multiple: Option<Multiple>,
    /// Article 39: the fine in yuan.
    #[serde(default)]
    pub penalty_amount: Option<Money>,
    /// 暂停医保服务 months (6–12), when decided.
    #[serde(default)]
    pub suspension_months: Option<u8>,
    /// 医保医师记分: the responsible doctor (医保医师代码) and the points (1–12).
    #[serde(default)]
    pub doctor: Option<String>,
    #[serde(default)]
    pub doctor_points: Option<u8>,
    /// 信用扣分: points off the institution's credit score (0–100).
    #[serde(default)]
    pub credit_points: u8,
}

/// A step someone asks to take.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepRequest {
    /// 开始核查.
    Review { note: String },
    /// 排除.
    Dismiss { reason: String },
    /// 认定.
    Confirm { decision: Decision, note: String },
    /// 重新核查: reopens a decided case; the earlier decision stays in its history.
    Reopen { reason: String },
}

/// Why a step is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{role}无权{what}(须稽核或管理员)")]
    Role { role: &'static str, what: &'static str },
    #[error("案件状态为{status}, 不能{what}")]
    State { status: &'static str, what: &'static str },
    #[error("{field}: {message}")]
    Field { field: &'static str, message: String },
}

fn field(field: &'static str, message: impl Into<String>) -> CaseError {
    CaseError::Field {
        field,
        message: message.into(),
    }
}

fn text_ok(name: &'static str, text: &str) -> Result<(), CaseError> {
    if text.trim().is_empty() || text.chars().count() > CASE_TEXT_CHARS_MAX {
        return Err(field(name, format!("不能为空且不超过{CASE_TEXT_CHARS_MAX}个字符")));
    }
    Ok(())
}

/// Whether `role` may open a case.
pub fn may_open(role: StaffRole) -> Result<(), CaseError> {
    if role.decides() {
        Ok(())
    } else {
        Err(CaseError::Role {
            role: role.name_zh(),
            what: "立案",
        })
    }
}

/// The status after `step`, or why it cannot be taken. Decisions are checked against the grid.
pub fn next_status(status: CaseStatus, step: &StepRequest, role: StaffRole) -> Result<CaseStatus, CaseError> {
    let what = match step {
        StepRequest::Review { .. } => "开始核查",
        StepRequest::Dismiss { .. } => "排除",
        StepRequest::Confirm { .. } => "认定",
        StepRequest::Reopen { .. } => "重新核查",
    };
    if !role.decides() {
        return Err(CaseError::Role {
            role: role.name_zh(),
            what,
        });
    }
    let refuse = || CaseError::State {
        status: status.name_zh(),
        what,
    };
    match step {
        StepRequest::Review { note } => {
            text_ok("note", note)?;
            (status == CaseStatus::Clue)
                .then_some(CaseStatus::Review)
                .ok_or_else(refuse)
        }
        StepRequest::Dismiss { reason } => {
            text_ok("reason", reason)?;
            (status == CaseStatus::Review)
                .then_some(CaseStatus::Dismissed)
                .ok_or_else(refuse)
        }
        StepRequest::Confirm { decision, note } => {
            text_ok("note", note)?;
            if status != CaseStatus::Review {
                return Err(refuse());
            }
            check_decision(decision)?;
            Ok(CaseStatus::Confirmed)
        }
        StepRequest::Reopen { reason } => {
            text_ok("reason", reason)?;
            status.is_decided().then_some(CaseStatus::Review).ok_or_else(refuse)
        }
    }
}

/// Checks a decision against Regulation 735's grid and the points system.
pub fn check_decision(d: &Decision) -> Result<(), CaseError> {
    if d.recovery.is_negative() {
        return Err(field("decision.recovery", "追回金额不能为负"));
    }
    let (low, high) = match d.article {
        Article::Art38 => (Some(100), Some(200)),
        Article::Art40 => (Some(200), Some(500)),
        Article::Art39 => (None, None),
    };
    match (d.article, d.penalty_multiple, d.penalty_amount) {
        (Article::Art39, None, Some(amount)) => {
            if !(Money::from_yuan(10_000)..=Money::from_yuan(50_000)).contains(&amount) {
                return Err(field(
                    "decision.penalty_amount",
                    format!("第三十九条的罚款为1万元以上5万元以下, 而非{amount}"),
                ));
            }
        }
        (Article::Art39, _, _) => {
            return Err(field(
                "decision.penalty_amount",
                "第三十九条的罚款以金额(penalty_amount)给出, 不按倍数",
            ))
        }
        (article, Some(multiple), None) => {
            let (low, high) = (low.unwrap_or(0), high.unwrap_or(0));
            let m = multiple.hundredths();
            if !(low..=high).contains(&m) {
                return Err(field(
                    "decision.penalty_multiple",
                    format!(
                        "{}的罚款为损失金额的{}倍以上{}倍以下, 而非{}倍",
                        article.name_zh(),
                        low / 100,
                        high / 100,
                        multiple
                    ),
                ));
            }
            if d.recovery.is_zero() {
                return Err(field(
                    "decision.recovery",
                    format!("{}须追回造成损失的金额", article.name_zh()),
                ));
            }
        }
        (article, _, _) => {
            return Err(field(
                "decision.penalty_multiple",
                format!("{}的罚款以损失金额的倍数(penalty_multiple)给出", article.name_zh()),
            ))
        }
    }
    if let Some(months) = d.suspension_months {
        if !(6..=12).contains(&months) {
            return Err(field(
                "decision.suspension_months",
                format!("暂停医保服务为6个月以上1年以下, 而非{months}个月"),
            ));
        }
    }
    match (&d.doctor, d.doctor_points) {
        (Some(code), Some(points)) => {
            if code.trim().is_empty() || code.chars().count() > 30 {
                return Err(field("decision.doctor", "医保医师代码不能为空且不超过30个字符"));
            }
            if !(1..=12).contains(&points) {
                return Err(field(
                    "decision.doctor_points",
                    format!("一次记分为1至12分, 而非{points}分"),
                ));
            }
        }
        (None, None) => {}
        (Some(_), None) => return Err(field("decision.doctor_points", "给出医师时须给出记分")),
        (None, Some(_)) => return Err(field("decision.doctor", "记分须给出医保医师代码")),
    }
    if d.credit_points > 100 {
        return Err(field("decision.credit_points", "信用扣分为0至100分"));
    }
    Ok(())
}

impl Decision {
    /// The fine: the recovery times the multiple (rounded half up), or the amount (art. 39).
    pub fn penalty(&self) -> Money {
        match (self.penalty_multiple, self.penalty_amount) {
            (_, Some(amount)) => amount,
            (Some(multiple), None) => Money::from_fen(
                Rounding::HalfUp.div(i128::from(self.recovery.fen()) * i128::from(multiple.hundredths()), 100) as i64,
            ),
            (None, None) => Money::ZERO,
        }
    }
}

/// A doctor's standing in a natural year (医保支付资格, 医保发〔2024〕23号).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DoctorStanding {
    /// Under 9 points.
    Normal,
    /// 9–11 points in the year: payment eligibility suspended 1–6 months.
    Suspended,
    /// 12 points: eligibility terminated (1 year before re-registration; 3 years when one
    /// event gave all 12).
    Terminated,
}

/// A doctor's points of one natural year and the standing they give. `events` are the points
/// of each confirmed case (the cycle is the natural year: points reset on 1 January).
pub fn doctor_standing(events: &[(NaiveDate, u8)], year: i32) -> (u32, DoctorStanding, Option<u8>) {
    use chrono::Datelike;
    let in_year: Vec<u8> = events
        .iter()
        .filter(|(d, _)| d.year() == year)
        .map(|(_, p)| *p)
        .collect();
    let total: u32 = in_year.iter().map(|p| u32::from(*p)).sum();
    let standing = match total {
        0..=8 => DoctorStanding::Normal,
        9..=11 => DoctorStanding::Suspended,
        _ => DoctorStanding::Terminated,
    };
    // Years before re-registration once terminated.
    let barred_years = (standing == DoctorStanding::Terminated).then(|| if in_year.contains(&12) { 3 } else { 1 });
    (total, standing, barred_years)
}

/// Splits a recovery among the funds that paid, in proportion to what each paid (the last fund
/// with money takes the rounding), so the books receive back exactly the recovery. `paid` are
/// (book, amount) pairs; returns (book, share).
pub fn recovery_by_fund<'a>(recovery: Money, paid: &[(&'a str, Money)]) -> Vec<(&'a str, Money)> {
    let total: Money = paid.iter().map(|(_, m)| *m).sum();
    assert!(!recovery.is_negative(), "recoveries are not negative");
    if recovery.is_zero() || total.fen() <= 0 {
        return Vec::new();
    }
    let mut out: Vec<(&str, Money)> = Vec::new();
    let mut given = Money::ZERO;
    let last = paid.iter().rposition(|(_, m)| m.fen() > 0).unwrap_or(0);
    for (i, (book, amount)) in paid.iter().enumerate() {
        if amount.fen() <= 0 {
            continue;
        }
        let share = if i == last {
            recovery - given
        } else {
            Money::from_fen(Rounding::HalfUp.div(
                i128::from(recovery.fen()) * i128::from(amount.fen()),
                i128::from(total.fen()),
            ) as i64)
        };
        given += share;
        out.push((book, share));
    }
    assert_eq!(
        out.iter().map(|(_, m)| *m).sum::<Money>(),
        recovery,
        "the shares add up to the recovery"
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Decision {
        Decision {
            article: Article::Art38,
            recovery: Money::from_yuan(1000),
            penalty_multiple: Multiple::parse("1.5"),
            penalty_amount: None,
            suspension_months: None,
            doctor: Some("D500101000001".into()),
            doctor_points: Some(4),
            credit_points: 5,
        }
    }

    #[test]
    fn steps_follow_the_case_and_the_role() {
        let confirm = StepRequest::Confirm {
            decision: decision(),
            note: "核实分解住院".into(),
        };
        let review = StepRequest::Review {
            note: "调阅病历".into(),
        };
        assert_eq!(
            next_status(CaseStatus::Clue, &review, StaffRole::Auditor),
            Ok(CaseStatus::Review)
        );
        assert_eq!(
            next_status(CaseStatus::Review, &confirm, StaffRole::Auditor),
            Ok(CaseStatus::Confirmed)
        );
        assert_eq!(
            next_status(CaseStatus::Confirmed, &confirm, StaffRole::Auditor).map_err(|e| e.to_string()),
            Err("案件状态为已认定, 不能认定".into())
        );
        assert_eq!(
            next_status(CaseStatus::Review, &confirm, StaffRole::Clerk).map_err(|e| e.to_string()),
            Err("经办无权认定(须稽核或管理员)".into())
        );
        let reopen = StepRequest::Reopen {
            reason: "机构申诉".into(),
        };
        assert_eq!(
            next_status(CaseStatus::Confirmed, &reopen, StaffRole::Auditor),
            Ok(CaseStatus::Review)
        );
        assert!(
            next_status(CaseStatus::Clue, &confirm, StaffRole::Auditor).is_err(),
            "review first"
        );
    }

    #[test]
    fn decisions_stay_within_the_grid() {
        let with = |f: &dyn Fn(&mut Decision)| {
            let mut d = decision();
            f(&mut d);
            check_decision(&d).map_err(|e| e.to_string())
        };
        assert_eq!(with(&|_| {}), Ok(()));
        assert_eq!(
            with(&|d| d.penalty_multiple = Multiple::parse("2.5")),
            Err("decision.penalty_multiple: 第三十八条的罚款为损失金额的1倍以上2倍以下, 而非2.5倍".into())
        );
        assert_eq!(
            with(&|d| {
                d.article = Article::Art40;
                d.penalty_multiple = Multiple::parse("1.5")
            }),
            Err("decision.penalty_multiple: 第四十条的罚款为损失金额的2倍以上5倍以下, 而非1.5倍".into())
        );
        assert_eq!(
            with(&|d| d.suspension_months = Some(3)),
            Err("decision.suspension_months: 暂停医保服务为6个月以上1年以下, 而非3个月".into())
        );
        assert_eq!(
            with(&|d| d.doctor_points = Some(13)),
            Err("decision.doctor_points: 一次记分为1至12分, 而非13分".into())
        );
        assert_eq!(decision().penalty(), Money::from_yuan(1500));
    }

    #[test]
    fn points_reset_each_year_and_suspend_at_nine() {
        let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).expect("date");
        let events = [(d(2026, 2), 4), (d(2026, 6), 5), (d(2027, 1), 3)];
        assert_eq!(doctor_standing(&events, 2026), (9, DoctorStanding::Suspended, None));
        assert_eq!(doctor_standing(&events, 2027), (3, DoctorStanding::Normal, None));
        assert_eq!(
            doctor_standing(&[(d(2026, 3), 12)], 2026),
            (12, DoctorStanding::Terminated, Some(3))
        );
        assert_eq!(
            doctor_standing(&[(d(2026, 3), 6), (d(2026, 4), 6)], 2026),
            (12, DoctorStanding::Terminated, Some(1))
        );
    }

    #[test]
    fn a_recovery_is_split_exactly_among_the_funds_that_paid() {
        let paid = [
            ("310100", Money::from_fen(70_001)),
            ("330100", Money::from_fen(29_999)),
            ("310200", Money::ZERO),
        ];
        let shares = recovery_by_fund(Money::from_fen(1_001), &paid);
        assert_eq!(
            shares,
            [("310100", Money::from_fen(701)), ("330100", Money::from_fen(300))]
        );
    }
}
