//! The contribution policy file (筹资政策): one TOML file per region and version, beside the
//! benefit policy files under `policies/<region>/contribution/<year>.toml`.
//!
//! Contribution rates, bases, subsidies and waiting-period parameters change every year and
//! differ by region, so none of them is in code ("policy is data"). The file is read with serde
//! and `deny_unknown_fields`, so a misspelt key is an error rather than a silently missing rule;
//! every error names its line and column. Amounts and ratios are written as strings, integers or
//! decimals ("91.5", 0.08, 610), each read from its text by the one decimal rule
//! (`yibao_money::deserialize_decimal_text`): never computed in floating point.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize};
use yibao_codes::{FundPayType, SpecialGroup, Tier};
use yibao_money::{Money, Ratio, Rounding, AMOUNT_FEN_MAX};

use crate::ids::{PersonKind, RegionCode};

/// The largest policy file accepted, in bytes.
pub const POLICY_FILE_BYTES_MAX: usize = 256 * 1024;
/// The most entries in any list of the file (tiers, splits, sponsorships, sources...).
pub const POLICY_LIST_LEN_MAX: usize = 64;
/// The longest waiting period or suspension delay accepted, in months.
pub const POLICY_MONTHS_MAX: u32 = 120;
/// The longest source or assumption line, in characters.
pub const POLICY_TEXT_CHARS_MAX: usize = 2000;
/// The largest monthly wage, pension or per-person amount accepted: 1,000,000 元.
pub const POLICY_AMOUNT_MAX: Money = Money::from_yuan(1_000_000);

/// A region's contribution rules for one version. Build it only with [`ContributionPolicy::parse`]:
/// that checks every value and fills `derived`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionPolicy {
    pub policy: Header,
    pub employee: EmployeeRules,
    pub resident: ResidentRules,
    pub subsidy: SubsidyRules,
    #[serde(default)]
    pub sponsored: Vec<Sponsorship>,
    pub waiting_period: WaitingRule,
    pub fund_warning: FundWarningThresholds,
    pub funds: FundBooks,
    /// Values derived once at load so the monthly run does no repeated work.
    #[serde(skip)]
    pub derived: Derived,
}

/// Identity, validity and provenance of the file.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub region: RegionCode,
    pub name: String,
    pub version: String,
    #[serde(deserialize_with = "de_date")]
    pub effective_from: NaiveDate,
    #[serde(default, deserialize_with = "de_opt_date")]
    pub effective_to: Option<NaiveDate>,
    /// How every product is brought to the fen: "half_up" (四舍五入), "down" (舍去), "up" (进一).
    #[serde(deserialize_with = "de_rounding", serialize_with = "ser_rounding")]
    pub rounding: Rounding,
    pub sources: Vec<String>,
    /// Every value that does not come from a source, said in words.
    pub assumptions: Vec<String>,
}

/// Employee insurance (职工医保, 310) contributions.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmployeeRules {
    /// The prior-year average wage the base is bounded by (上年度全口径城镇单位就业人员月平均工资).
    pub prior_year_average_wage_monthly: Money,
    /// The base is at least this percent of the average wage (60).
    pub base_floor_percent: u32,
    /// The base is at most this percent of the average wage (300).
    pub base_cap_percent: u32,
    #[serde(deserialize_with = "de_ratio")]
    pub employer_rate: Ratio,
    #[serde(deserialize_with = "de_ratio")]
    pub individual_rate: Ratio,
    /// Share of the employer contribution credited to personal accounts: zero since the outpatient
    /// mutual-aid reform (单位缴费全部计入统筹基金).
    #[serde(deserialize_with = "de_ratio")]
    pub employer_share_to_account: Ratio,
    /// Share of the base credited to an in-service account (the individual rate after the reform).
    #[serde(deserialize_with = "de_ratio")]
    pub in_service_account_rate: Ratio,
    /// Flexible workers pay the whole contribution at this rate on their chosen base.
    #[serde(deserialize_with = "de_ratio")]
    pub flexible_rate: Ratio,
    /// Share of a flexible worker's base credited to a personal account (zero when none).
    #[serde(deserialize_with = "de_ratio")]
    pub flexible_account_rate: Ratio,
    /// The average basic pension the retiree credit is set from.
    pub average_pension_monthly: Money,
    /// Retirees' monthly account credit as a share of the average pension (2.5%).
    #[serde(deserialize_with = "de_ratio")]
    pub retiree_account_ratio: Ratio,
    /// A fixed monthly premium for the large-expense subsidy (330), paid by the person; zero if none.
    #[serde(default)]
    pub large_expense_monthly: Money,
    /// Consecutive unpaid months after which the relationship is suspended (停保).
    pub suspend_after_missed_months: u32,
}

/// Resident insurance (居民医保, 390) contributions for one insurance year.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentRules {
    /// The insurance year the contribution pays for.
    pub insurance_year: i32,
    /// The collection window (集中参保期) for that year.
    pub collection_window: Window,
    pub tiers: Vec<ResidentTier>,
    /// The part of the per-person funding (individual + subsidy) that goes to the critical-illness
    /// insurance book (大病保险, 390200); zero when the region does not split it at collection.
    #[serde(default)]
    pub critical_illness_amount: Money,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    #[serde(deserialize_with = "de_date")]
    pub from: NaiveDate,
    #[serde(deserialize_with = "de_date")]
    pub to: NaiveDate,
}

impl Window {
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.from <= date && date <= self.to
    }
}

/// One resident contribution tier (档次): the individual amount per year.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResidentTier {
    pub tier: Tier,
    pub individual_amount: Money,
    /// The kinds of resident that may choose this tier; empty means all.
    #[serde(default)]
    pub kinds: Vec<PersonKind>,
}

/// Levels of government sharing the fiscal subsidy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GovernmentLevel {
    Central,
    Province,
    City,
    County,
}

impl GovernmentLevel {
    pub fn name_zh(self) -> &'static str {
        match self {
            GovernmentLevel::Central => "中央财政",
            GovernmentLevel::Province => "省级财政",
            GovernmentLevel::City => "市级财政",
            GovernmentLevel::County => "县级财政",
        }
    }
}

/// The central government's share class of a province (西部/中部/东部).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionClass {
    West,
    Central,
    East,
}

/// Fiscal subsidy per resident (财政补助) and its split by level of government.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubsidyRules {
    pub per_person_amount: Money,
    pub region_class: RegionClass,
    /// The central share by region class; the one for `region_class` must give `central_amount`.
    pub central_share: Vec<CentralShare>,
    pub central_amount: Money,
    /// How the local part is shared, one entry per kind of county.
    pub local_split: Vec<LocalSplit>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CentralShare {
    pub class: RegionClass,
    #[serde(deserialize_with = "de_ratio")]
    pub ratio: Ratio,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSplit {
    /// An identifier used by enrolment records ("poverty_alleviated_county").
    pub county_class: String,
    pub name: String,
    pub shares: Vec<LevelShare>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelShare {
    pub level: GovernmentLevel,
    pub amount: Money,
}

/// Sponsored enrolment (资助参保): the medical-assistance fund pays all or part of the
/// individual contribution of a special group.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Sponsorship {
    pub groups: Vec<SpecialGroup>,
    pub kind: SponsorKind,
    /// For `partial`: the amount paid per person and year.
    #[serde(default)]
    pub amount: Option<Money>,
    /// The fund that pays (医疗救助基金 610100 by default).
    #[serde(default = "default_sponsor_fund")]
    pub fund: FundPayType,
}

fn default_sponsor_fund() -> FundPayType {
    FundPayType::MedicalAssistance
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SponsorKind {
    /// 全额资助.
    Full,
    /// 定额资助.
    Partial,
}

/// Resident waiting periods (待遇等待期, 国办发〔2024〕38号) and their exemptions.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WaitingRule {
    /// 固定待遇等待期 (3).
    pub fixed_months: u32,
    /// 变动待遇等待期 added per lapsed year (1).
    pub months_per_lapsed_year: u32,
    /// From this many lapsed years (4) the total after repair is at least `long_lapse_months_min` (6).
    pub long_lapse_years: u32,
    pub long_lapse_months_min: u32,
    /// Enrolling within this many months of leaving employee insurance: no waiting (3).
    pub employee_gap_exempt_months: u32,
    /// A newborn enrolled within this many days of birth: no waiting.
    pub newborn_enrol_days_max: u32,
    /// Groups without waiting periods (农村低收入人口).
    pub exempt_groups: Vec<SpecialGroup>,
}

/// Fund-operation early-warning thresholds (基金运行预警).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FundWarningThresholds {
    /// Accumulated balance below this many months of spending: warn (too little cover).
    pub months_of_cover_min: u32,
    /// Above this many months: warn (too much kept back).
    pub months_of_cover_max: u32,
    /// Spending growth above income growth by more than this: warn.
    #[serde(deserialize_with = "de_ratio")]
    pub spending_growth_over_income_max: Ratio,
}

/// The fund book (基金分别建账) each contribution stream is booked to, by `fund_pay_type`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FundBooks {
    pub employee_pooled: FundPayType,
    pub employee_account: FundPayType,
    pub large_expense: FundPayType,
    pub resident_pooled: FundPayType,
    pub resident_critical_illness: FundPayType,
}

/// Values derived at load.
#[derive(Clone, Debug, Default)]
pub struct Derived {
    pub base_floor: Money,
    pub base_cap: Money,
    pub retiree_account_monthly: Money,
    pub local_subsidy_amount: Money,
}

/// An error in a policy file, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    /// 1-based; 0 when the error concerns the whole file.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

impl std::error::Error for PolicyError {}

/// Line and column (1-based) of a byte offset.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The line of the first line that starts with `needle` (a table header or a key), for errors
/// found after parsing.
fn line_of(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|line| line.trim_start().starts_with(needle))
        .map_or(0, |index| index + 1)
}

impl ContributionPolicy {
    /// Parses and checks a contribution policy; `file` names it in errors. Returns every
    /// semantic problem found, or the first syntax error.
    pub fn parse(file: &str, source: &str) -> Result<ContributionPolicy, Vec<PolicyError>> {
        let error = |line, column, message: String| PolicyError {
            file: file.to_owned(),
            line,
            column,
            message,
        };
        if source.len() > POLICY_FILE_BYTES_MAX {
            return Err(vec![error(0, 0, format!("文件超过{POLICY_FILE_BYTES_MAX}字节"))]);
        }
        let mut policy: ContributionPolicy = toml::from_str(source).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |span| line_column(source, span.start));
            vec![error(line, column, e.message().to_owned())]
        })?;
        let problems = policy.check();
        if !problems.is_empty() {
            return Err(problems
                .into_iter()
                .map(|(needle, message)| error(line_of(source, needle), 1, message))
                .collect());
        }
        policy.derive();
        Ok(policy)
    }

    /// `region/version`, recorded with every contribution charge.
    pub fn id(&self) -> String {
        format!("{}/{}", self.policy.region, self.policy.version)
    }

    pub fn is_effective_on(&self, date: NaiveDate) -> bool {
        date >= self.policy.effective_from && self.policy.effective_to.is_none_or(|to| date <= to)
    }

    /// The tier entry for a resident of `kind`.
    pub fn resident_tier(&self, tier: Tier, kind: PersonKind) -> Option<&ResidentTier> {
        self.resident
            .tiers
            .iter()
            .find(|t| t.tier == tier && (t.kinds.is_empty() || t.kinds.contains(&kind)))
    }

    /// Semantic checks: (where to point, message).
    fn check(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        let mut need = |ok: bool, at: &'static str, message: String| {
            if !ok {
                problems.push((at, message));
            }
        };
        let h = &self.policy;
        need(
            h.effective_to.is_none_or(|to| to >= h.effective_from),
            "effective_to",
            "effective_to早于effective_from".into(),
        );
        for (list, len) in [
            ("sources", h.sources.len()),
            ("assumptions", h.assumptions.len()),
            ("[[resident.tiers]]", self.resident.tiers.len()),
            ("[[subsidy.local_split]]", self.subsidy.local_split.len()),
            ("[[sponsored]]", self.sponsored.len()),
            ("exempt_groups", self.waiting_period.exempt_groups.len()),
        ] {
            need(
                len <= POLICY_LIST_LEN_MAX,
                list,
                format!("{list}超过{POLICY_LIST_LEN_MAX}项"),
            );
        }
        let text_ok = |t: &str, max: usize| !t.trim().is_empty() && t.chars().count() <= max;
        need(text_ok(&h.name, 200), "name", "name不能为空且不超过200个字符".into());
        need(
            text_ok(&h.version, 32),
            "version",
            "version不能为空且不超过32个字符".into(),
        );
        need(
            h.sources
                .iter()
                .chain(&h.assumptions)
                .all(|t| text_ok(t, POLICY_TEXT_CHARS_MAX)),
            "sources",
            format!("sources与assumptions的每一项不能为空且不超过{POLICY_TEXT_CHARS_MAX}个字符"),
        );
        let amount_ok = |m: Money| !m.is_negative() && m <= POLICY_AMOUNT_MAX;
        let e = &self.employee;
        need(
            amount_ok(e.prior_year_average_wage_monthly) && !e.prior_year_average_wage_monthly.is_zero(),
            "prior_year_average_wage_monthly",
            "上年度月平均工资必须大于0且不超过100万元".into(),
        );
        need(
            (1..=100).contains(&e.base_floor_percent),
            "base_floor_percent",
            "缴费基数下限百分比应在1到100之间".into(),
        );
        need(
            (100..=1000).contains(&e.base_cap_percent),
            "base_cap_percent",
            "缴费基数上限百分比应在100到1000之间".into(),
        );
        need(
            e.in_service_account_rate <= e.individual_rate || !e.employer_share_to_account.is_zero(),
            "in_service_account_rate",
            "在职人员个人账户划入比例超过个人缴费费率,而单位缴费不划入个人账户".into(),
        );
        need(
            e.flexible_account_rate <= e.flexible_rate,
            "flexible_account_rate",
            "灵活就业人员个人账户划入比例超过其缴费费率".into(),
        );
        need(
            amount_ok(e.average_pension_monthly),
            "average_pension_monthly",
            "平均养老金应在0到100万元之间".into(),
        );
        need(
            amount_ok(e.large_expense_monthly),
            "large_expense_monthly",
            "大额医疗费用补助月缴费额应在0到100万元之间".into(),
        );
        need(
            (1..=POLICY_MONTHS_MAX).contains(&e.suspend_after_missed_months),
            "suspend_after_missed_months",
            format!("停保前欠缴月数应在1到{POLICY_MONTHS_MAX}之间"),
        );
        let r = &self.resident;
        need(
            r.collection_window.from <= r.collection_window.to,
            "collection_window",
            "集中参保期的结束日期早于开始日期".into(),
        );
        need(
            (1900..=2200).contains(&r.insurance_year),
            "insurance_year",
            "参保年度应在1900到2200之间".into(),
        );
        need(!r.tiers.is_empty(), "[resident]", "至少需要一个居民缴费档次".into());
        for (i, t) in r.tiers.iter().enumerate() {
            let clash = r.tiers[..i].iter().any(|u| {
                u.tier == t.tier
                    && (u.kinds.is_empty() || t.kinds.is_empty() || u.kinds.iter().any(|k| t.kinds.contains(k)))
            });
            need(
                !clash,
                "[[resident.tiers]]",
                format!("第{}档对同一类居民重复定义", t.tier.number()),
            );
            need(
                amount_ok(t.individual_amount),
                "[[resident.tiers]]",
                format!("第{}个档次的个人缴费额应在0到100万元之间", i + 1),
            );
        }
        let s = &self.subsidy;
        need(
            amount_ok(s.per_person_amount),
            "per_person_amount",
            "人均财政补助应在0到100万元之间".into(),
        );
        need(
            amount_ok(r.critical_illness_amount) && r.critical_illness_amount <= s.per_person_amount,
            "critical_illness_amount",
            "大病保险筹资额应在0到人均财政补助之间".into(),
        );
        match s.central_share.iter().find(|c| c.class == s.region_class) {
            None => need(false, "central_share", "缺少本地区类别的中央财政补助比例".into()),
            Some(share) => {
                let expected = s.per_person_amount.times(share.ratio, h.rounding);
                need(
                    expected == s.central_amount,
                    "central_amount",
                    format!(
                        "中央财政补助{}不等于人均补助{}×{}={}",
                        s.central_amount, s.per_person_amount, share.ratio, expected
                    ),
                );
            }
        }
        need(
            s.central_amount <= s.per_person_amount && !s.central_amount.is_negative(),
            "central_amount",
            "中央财政补助超过人均补助".into(),
        );
        need(
            !s.local_split.is_empty(),
            "[[subsidy.local_split]]",
            "至少需要一种地方财政分担方式".into(),
        );
        let local = s.per_person_amount.saturating_sub_to_zero(s.central_amount);
        for (i, split) in s.local_split.iter().enumerate() {
            need(
                !s.local_split[..i].iter().any(|x| x.county_class == split.county_class)
                    && text_ok(&split.county_class, 64)
                    && text_ok(&split.name, 200),
                "[[subsidy.local_split]]",
                format!(
                    "地方财政分担类别“{}”重复、为空或过长",
                    split.county_class.chars().take(64).collect::<String>()
                ),
            );
            let sum: Money = split.shares.iter().map(|x| x.amount).sum();
            need(
                sum == local && split.shares.iter().all(|x| amount_ok(x.amount)),
                "[[subsidy.local_split]]",
                format!("“{}”的地方财政分担合计{}不等于地方补助{}", split.name, sum, local),
            );
            need(
                split.shares.iter().all(|x| x.level != GovernmentLevel::Central),
                "[[subsidy.local_split]]",
                format!("“{}”的地方分担中不能有中央财政", split.name),
            );
            need(
                split.shares.len() <= 4,
                "[[subsidy.local_split]]",
                format!("“{}”的分担层级超过4级", split.name),
            );
        }
        for sponsor in &self.sponsored {
            let ok = match (sponsor.kind, sponsor.amount) {
                (SponsorKind::Full, None) => true,
                (SponsorKind::Partial, Some(amount)) => amount_ok(amount) && !amount.is_zero(),
                _ => false,
            };
            need(
                ok && !sponsor.groups.is_empty(),
                "[[sponsored]]",
                "资助参保:全额资助不写amount,定额资助必须写大于0的amount,且groups不能为空".into(),
            );
        }
        let w = &self.waiting_period;
        for (key, value) in [
            ("fixed_months", w.fixed_months),
            ("months_per_lapsed_year", w.months_per_lapsed_year),
            ("long_lapse_months_min", w.long_lapse_months_min),
            ("employee_gap_exempt_months", w.employee_gap_exempt_months),
        ] {
            need(
                value <= POLICY_MONTHS_MAX,
                key,
                format!("{key}超过{POLICY_MONTHS_MAX}个月"),
            );
        }
        need(
            (1..=100).contains(&w.long_lapse_years),
            "long_lapse_years",
            "long_lapse_years应在1到100之间".into(),
        );
        need(
            w.newborn_enrol_days_max <= 366,
            "newborn_enrol_days_max",
            "新生儿参保期限不超过366天".into(),
        );
        let f = &self.fund_warning;
        need(
            f.months_of_cover_min <= f.months_of_cover_max && f.months_of_cover_max <= POLICY_MONTHS_MAX,
            "months_of_cover_min",
            "可支付月数预警下限应不大于上限,上限不超过120".into(),
        );
        let b = &self.funds;
        let books = [
            b.employee_pooled,
            b.employee_account,
            b.large_expense,
            b.resident_pooled,
            b.resident_critical_illness,
        ];
        let distinct = books.iter().enumerate().all(|(i, x)| !books[i + 1..].contains(x));
        need(distinct, "[funds]", "每个缴费去向应记入不同的基金账簿".into());
        need(
            b.employee_account == FundPayType::EmployeeAccount,
            "employee_account",
            "个人账户必须记入310200(职工基本医疗保险个人账户基金)".into(),
        );
        problems
    }

    fn derive(&mut self) {
        let e = &self.employee;
        let rounding = self.policy.rounding;
        self.derived = Derived {
            base_floor: percent_of(e.prior_year_average_wage_monthly, e.base_floor_percent, rounding),
            base_cap: percent_of(e.prior_year_average_wage_monthly, e.base_cap_percent, rounding),
            retiree_account_monthly: e.average_pension_monthly.times(e.retiree_account_ratio, rounding),
            local_subsidy_amount: self.subsidy.per_person_amount - self.subsidy.central_amount,
        };
    }
}

/// `amount × percent / 100`, rounded: percentages above 100 (the 300% base cap) do not fit a
/// `Ratio`.
pub fn percent_of(amount: Money, percent: u32, rounding: Rounding) -> Money {
    let fen = rounding.div(i128::from(amount.fen()) * i128::from(percent), 100);
    Money::from_fen(i64::try_from(fen).expect("bounded by POLICY_AMOUNT_MAX"))
}

fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let datetime = toml::value::Datetime::deserialize(d)?;
    match (datetime.date, datetime.time) {
        (Some(date), None) => NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
            .ok_or_else(|| serde::de::Error::custom("日期无效")),
        _ => Err(serde::de::Error::custom("应为日期(如2024-01-01),不带时间")),
    }
}

fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    de_date(d).map(Some)
}

fn de_rounding<'de, D: Deserializer<'de>>(d: D) -> Result<Rounding, D::Error> {
    let text = String::deserialize(d)?;
    match text.as_str() {
        "half_up" | "四舍五入" => Ok(Rounding::HalfUp),
        "down" | "舍去" => Ok(Rounding::Down),
        "up" | "进一" => Ok(Rounding::Up),
        _ => Err(serde::de::Error::custom("舍入方式应为half_up、down或up")),
    }
}

fn ser_rounding<S: serde::Serializer>(rounding: &Rounding, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match rounding {
        Rounding::HalfUp => "half_up",
        Rounding::Down => "down",
        Rounding::Up => "up",
    })
}

/// A ratio written as a string ("0.08"), a float (0.08, by its shortest text: the one decimal
/// rule, `yibao_money::deserialize_decimal_text`) or the integers 0 and 1.
fn de_ratio<'de, D: Deserializer<'de>>(d: D) -> Result<Ratio, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Ratio;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("比例,写成字符串如\"0.08\"")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Ratio, E> {
            Ratio::parse(v).map_err(|e| E::custom(format!("比例“{}”:{e}", v.chars().take(40).collect::<String>())))
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Ratio, E> {
            Ratio::from_ten_thousandths(v.saturating_mul(10_000)).ok_or_else(|| E::custom("比例必须在0到1之间"))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Ratio, E> {
            self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Ratio, E> {
            if !v.is_finite() {
                return Err(E::custom("比例必须是有限数"));
            }
            self.visit_str(&format!("{v}"))
        }
    }
    d.deserialize_any(Visitor)
}

const _: () = assert!(POLICY_AMOUNT_MAX.fen() < AMOUNT_FEN_MAX);
