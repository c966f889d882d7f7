//! The rules: stable ids with their family, severity and national knowledge source, and a
//! region's rule file (`policies/REGION/monitor/*.toml`), which says for each rule what it does
//! there (warn, refuse the line, or only feed after-the-fact screening) and its thresholds.
//! A rule the file does not name is off.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::Deserialize;
use yibao_money::Ratio;

/// The longest rule file read.
pub const RULE_FILE_BYTES_MAX: usize = 256 << 10;

macro_rules! rules {
    ($( $variant:ident = $id:literal, $zh:literal, $severity:ident, $params:expr; )+) => {
        /// A rule, by its stable id (the `rule_id` of 3101/3102 answers and of suspicions).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId { $( $variant, )+ }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[ $( RuleId::$variant, )+ ];

            pub fn id(self) -> &'static str {
                match self { $( RuleId::$variant => $id, )+ }
            }

            /// The rule's name as bureaus write it.
            pub fn name_zh(self) -> &'static str {
                match self { $( RuleId::$variant => $zh, )+ }
            }

            /// The national result type (规则运行结果类型) of a finding of this rule.
            pub fn severity(self) -> Severity {
                match self { $( RuleId::$variant => Severity::$severity, )+ }
            }

            /// The thresholds a region's rule file may set for this rule.
            pub fn params(self) -> &'static [&'static str] {
                match self { $( RuleId::$variant => $params, )+ }
            }

            pub fn parse(id: &str) -> Option<RuleId> {
                match id { $( $id => Some(RuleId::$variant), )+ _ => None }
            }
        }
    };
}

rules! {
    DrugSex = "drug_sex", "限性别用药", Definite, &[];
    ItemSex = "item_sex", "限性别诊疗项目", Definite, &[];
    DrugAge = "drug_age", "限儿童用药", Definite, &["child_age_years_max"];
    ItemAge = "item_age", "限年龄诊疗项目", Definite, &["neonate_days_max", "infant_age_years_max", "child_age_years_max"];
    ItemWorkingAge = "item_working_age", "超法定就业年龄诊疗项目", Definite, &["working_age_years_max"];
    DrugScheme = "drug_scheme", "限工伤或生育保险用药", Definite, &[];
    DrugSetting = "drug_setting", "限住院用药", Definite, &[];
    DrugLevel = "drug_level", "限医疗机构等级用药", Definite, &[];
    DrugCourse = "drug_course", "超限定支付疗程用药", Definite, &[];
    ItemCourse = "item_course", "超限定疗程诊疗项目", Definite, &[];
    ItemCycle = "item_cycle", "限定周期内重复诊疗项目", Suspect, &[];
    DuplicateCharge = "duplicate_charge", "重复收费", Definite, &[];
    Frequency = "frequency", "超限定频次", Definite, &[];
    SameIncision = "same_incision", "同一切口手术未按规定折价", Definite, &["secondary_price_ratio"];
    SplitAdmission = "split_admission", "分解住院", Suspect, &["readmission_days_max"];
    InpatientOverlap = "inpatient_overlap", "重叠住院", Suspect, &[];
    OutpatientDuringStay = "outpatient_during_stay", "住院期间门诊就诊", Suspect, &[];
    BedWithoutCare = "bed_without_care", "挂床住院", Suspect, &["idle_days_min", "bed_code_prefixes", "routine_code_prefixes"];
    PeerOutlier = "peer_outlier", "机构费用异常(同级比较)", Suspect, &["robust_z_min", "peer_group_min", "cases_min"];
    CoVisitGroup = "co_visit_group", "结伴就诊(团伙)", Suspect, &["group_persons_min", "group_days_min", "bucket_persons_max"];
    NotCovered = "not_covered", "参保中断期间或死亡后就医", Definite, &[];
}

impl RuleId {
    /// Whether the rule needs more than one visit (a person's history): only after-the-fact
    /// screening runs it, whatever action the region gives it.
    pub fn needs_history(self) -> bool {
        matches!(
            self,
            RuleId::SplitAdmission
                | RuleId::InpatientOverlap
                | RuleId::OutpatientDuringStay
                | RuleId::BedWithoutCare
                | RuleId::PeerOutlier
                | RuleId::CoVisitGroup
        )
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// 规则运行结果类型.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// 明确违规: a deterministic conflict with the knowledge base.
    Definite,
    /// 可疑: needs clinical or documentary review.
    Suspect,
}

impl Severity {
    pub fn name_zh(self) -> &'static str {
        match self {
            Severity::Definite => "明确违规",
            Severity::Suspect => "可疑",
        }
    }

    /// The `sev_deg` code sent on 3101/3102 (1 明确违规, 2 可疑; the national dictionary is not
    /// published, see the reference).
    pub fn code(self) -> &'static str {
        match self {
            Severity::Definite => "1",
            Severity::Suspect => "2",
        }
    }
}

/// What a rule does in a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 拒付: the line's amount at stake moves to self-pay at settlement (and 3101/3102 warn).
    Refuse,
    /// 提醒: 3101/3102 and settlement report it; the fund still pays.
    Warn,
    /// Only after-the-fact screening (事后) looks for it.
    Screen,
}

impl Action {
    pub fn name_zh(self) -> &'static str {
        match self {
            Action::Refuse => "拒付",
            Action::Warn => "提醒",
            Action::Screen => "事后筛查",
        }
    }

    /// As the rule file and the store write it.
    pub fn code(self) -> &'static str {
        match self {
            Action::Refuse => "refuse",
            Action::Warn => "warn",
            Action::Screen => "screen",
        }
    }

    /// Whether the real-time check (3101/3102, settlement) runs the rule.
    pub fn is_realtime(self) -> bool {
        matches!(self, Action::Refuse | Action::Warn)
    }
}

/// One rule as a region runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSetting {
    pub action: Action,
}

/// Thresholds, with the values a region file sets (no defaults in code: a rule that needs a
/// threshold must be given it, `policy check` says so).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Thresholds {
    pub child_age_years_max: Option<u16>,
    pub neonate_days_max: Option<u16>,
    pub infant_age_years_max: Option<u16>,
    pub working_age_years_max: Option<u16>,
    pub secondary_price_ratio: Option<Ratio>,
    /// 分解住院: a readmission at most this many days after the discharge.
    pub readmission_days_max: Option<u16>,
    /// 挂床住院: at least this many inpatient days with only bed and routine charges.
    pub idle_days_min: Option<u16>,
    /// Service-item code prefixes of bed fees (床位费, `001109`).
    pub bed_code_prefixes: Vec<String>,
    /// Prefixes of the routine charges that are not care (护理 `001201`, 诊查 `001102`).
    pub routine_code_prefixes: Vec<String>,
    /// 同级比较: an institution is an outlier when its robust z-score is at least this.
    pub robust_z_min: Option<u16>,
    /// Peer groups smaller than this are not compared.
    pub peer_group_min: Option<u16>,
    /// An institution with fewer cases of a kind in the period is not compared on it.
    pub cases_min: Option<u16>,
    /// 结伴就诊: at least this many persons who visited together on at least this many days.
    pub group_persons_min: Option<u16>,
    pub group_days_min: Option<u16>,
    /// Arrivals of one institution and hour with more persons than this are a crowd, not a group.
    pub bucket_persons_max: Option<u16>,
}

/// A region's rule file, compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorPolicy {
    pub region: String,
    pub name: String,
    pub version: String,
    pub effective_from: NaiveDate,
    pub effective_to: Option<NaiveDate>,
    pub rules: BTreeMap<RuleId, RuleSetting>,
    pub thresholds: Thresholds,
    /// 信用评价: an institution's score starts at `score_start` each year and loses the credit
    /// points of its confirmed cases; the grades, highest first, each from its `score_min`.
    pub credit: Option<CreditScale>,
}

/// A region's credit scale for designated institutions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditScale {
    pub score_start: u16,
    /// (grade, lowest score of the grade), highest grade first; the last grade's minimum is 0.
    pub grades: Vec<(String, u16)>,
}

impl CreditScale {
    /// The score and grade after `deducted` points.
    pub fn rate(&self, deducted: i64) -> (i64, &str) {
        let score = (i64::from(self.score_start) - deducted).max(0);
        let grade = self
            .grades
            .iter()
            .find(|(_, min)| score >= i64::from(*min))
            .or(self.grades.last())
            .map_or("", |(g, _)| g.as_str());
        (score, grade)
    }
}

impl MonitorPolicy {
    pub fn id(&self) -> String {
        format!("{}/{}", self.region, self.version)
    }

    pub fn is_effective_on(&self, date: NaiveDate) -> bool {
        date >= self.effective_from && self.effective_to.is_none_or(|to| date <= to)
    }

    /// The rule's action, `None` when the region does not run it.
    pub fn action(&self, rule: RuleId) -> Option<Action> {
        self.rules.get(&rule).map(|s| s.action)
    }

    /// Reads a rule file. Every error names its line and column.
    pub fn parse(file: &str, source: &str) -> Result<MonitorPolicy, Vec<RuleFileError>> {
        let error = |span: Option<std::ops::Range<usize>>, message: String| {
            let (line, column) = span.map_or((0, 0), |s| line_column(source, s.start));
            RuleFileError {
                file: file.to_owned(),
                line,
                column,
                message,
            }
        };
        if source.len() > RULE_FILE_BYTES_MAX {
            return Err(vec![error(
                None,
                format!("规则文件超过{}KiB", RULE_FILE_BYTES_MAX >> 10),
            )]);
        }
        let raw: RawFile = toml::from_str(source).map_err(|e| vec![error(e.span(), e.message().to_owned())])?;
        let mut errors = Vec::new();
        let head = raw.monitor;
        let mut check_text = |value: &toml::Spanned<String>, what: &str| {
            if value.get_ref().trim().is_empty() || value.get_ref().chars().count() > 200 {
                errors.push(error(Some(value.span()), format!("{what}不能为空且不超过200个字符")));
            }
        };
        check_text(&head.region, "region");
        check_text(&head.name, "name");
        check_text(&head.version, "version");
        let effective_from =
            date_of(&head.effective_from).map_err(|m| vec![error(Some(head.effective_from.span()), m)]);
        let effective_to = head
            .effective_to
            .as_ref()
            .map(|d| date_of(d).map_err(|m| error(Some(d.span()), m)))
            .transpose();
        let (effective_from, effective_to) = match (effective_from, effective_to) {
            (Ok(f), Ok(t)) => (f, t),
            (Err(mut e), t) => {
                errors.append(&mut e);
                if let Err(e) = t {
                    errors.push(e);
                }
                return Err(errors);
            }
            (Ok(_), Err(e)) => {
                errors.push(e);
                return Err(errors);
            }
        };
        if let (Some(to), Some(span)) = (effective_to, head.effective_to.as_ref().map(toml::Spanned::span)) {
            if to < effective_from {
                errors.push(error(
                    Some(span),
                    format!("effective_to {to} 早于 effective_from {effective_from}"),
                ));
            }
        }
        let mut rules = BTreeMap::new();
        let mut thresholds = Thresholds::default();
        for (key, entry) in &raw.rules {
            let span = entry.span();
            let Some(rule) = RuleId::parse(key) else {
                let known: Vec<&str> = RuleId::ALL.iter().map(|r| r.id()).collect();
                errors.push(error(
                    Some(span),
                    format!("未知的规则编号“{key}”(可用: {})", known.join("、")),
                ));
                continue;
            };
            let entry = entry.get_ref();
            let given = entry.params();
            for (name, value_span) in &given {
                if !rule.params().contains(name) {
                    let allowed = if rule.params().is_empty() {
                        "无参数".to_owned()
                    } else {
                        rule.params().join("、")
                    };
                    errors.push(error(
                        Some(value_span.clone()),
                        format!("规则{key}没有参数{name}(可用: {allowed})"),
                    ));
                }
            }
            for name in rule.params() {
                if !given.iter().any(|(n, _)| n == name) {
                    errors.push(error(Some(span.clone()), format!("规则{key}须给出参数{name}")));
                }
            }
            let mut age = |value: &Option<toml::Spanned<i64>>, max: i64, slot: &mut Option<u16>, name: &str| {
                if let Some(v) = value {
                    match u16::try_from(*v.get_ref()) {
                        Ok(n) if i64::from(n) <= max => *slot = Some(n),
                        _ => errors.push(error(Some(v.span()), format!("{name}应为0至{max}的整数"))),
                    }
                }
            };
            age(
                &entry.child_age_years_max,
                30,
                &mut thresholds.child_age_years_max,
                "child_age_years_max",
            );
            age(
                &entry.neonate_days_max,
                366,
                &mut thresholds.neonate_days_max,
                "neonate_days_max",
            );
            age(
                &entry.infant_age_years_max,
                10,
                &mut thresholds.infant_age_years_max,
                "infant_age_years_max",
            );
            age(
                &entry.working_age_years_max,
                100,
                &mut thresholds.working_age_years_max,
                "working_age_years_max",
            );
            age(
                &entry.readmission_days_max,
                365,
                &mut thresholds.readmission_days_max,
                "readmission_days_max",
            );
            age(
                &entry.idle_days_min,
                366,
                &mut thresholds.idle_days_min,
                "idle_days_min",
            );
            age(&entry.robust_z_min, 100, &mut thresholds.robust_z_min, "robust_z_min");
            age(
                &entry.peer_group_min,
                10_000,
                &mut thresholds.peer_group_min,
                "peer_group_min",
            );
            age(&entry.cases_min, 10_000, &mut thresholds.cases_min, "cases_min");
            age(
                &entry.group_persons_min,
                1_000,
                &mut thresholds.group_persons_min,
                "group_persons_min",
            );
            age(
                &entry.group_days_min,
                366,
                &mut thresholds.group_days_min,
                "group_days_min",
            );
            age(
                &entry.bucket_persons_max,
                10_000,
                &mut thresholds.bucket_persons_max,
                "bucket_persons_max",
            );
            let mut prefixes = |value: &Option<toml::Spanned<Vec<String>>>, slot: &mut Vec<String>, name: &str| {
                if let Some(v) = value {
                    let ok = !v.get_ref().is_empty()
                        && v.get_ref().len() <= 100
                        && v.get_ref()
                            .iter()
                            .all(|p| (1..=15).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
                    if ok {
                        slot.clone_from(v.get_ref());
                    } else {
                        errors.push(error(
                            Some(v.span()),
                            format!("{name}应为1至100个由1至15位数字组成的编码前缀"),
                        ));
                    }
                }
            };
            prefixes(
                &entry.bed_code_prefixes,
                &mut thresholds.bed_code_prefixes,
                "bed_code_prefixes",
            );
            prefixes(
                &entry.routine_code_prefixes,
                &mut thresholds.routine_code_prefixes,
                "routine_code_prefixes",
            );
            if let Some(v) = &entry.secondary_price_ratio {
                match Ratio::parse(v.get_ref()) {
                    Ok(r) if r.ten_thousandths() > 0 && r.ten_thousandths() < 10_000 => {
                        thresholds.secondary_price_ratio = Some(r)
                    }
                    _ => errors.push(error(
                        Some(v.span()),
                        "secondary_price_ratio应为0与1之间的小数文本,如\"0.5\"".into(),
                    )),
                }
            }
            rules.insert(
                rule,
                RuleSetting {
                    action: *entry.action.get_ref(),
                },
            );
        }
        let credit = match &raw.credit {
            None => None,
            Some(c) => {
                let span = c.span();
                let c = c.get_ref();
                let mut grades: Vec<(String, u16)> = Vec::new();
                for g in &c.grades {
                    let ok_name = !g.grade.trim().is_empty() && g.grade.chars().count() <= 10;
                    match u16::try_from(g.score_min) {
                        Ok(min) if ok_name && min <= c.score_start => grades.push((g.grade.clone(), min)),
                        _ => errors.push(error(
                            Some(span.clone()),
                            format!(
                                "[credit] 等级“{}”的score_min应为0至score_start之间的整数, 等级名1至10个字符",
                                g.grade
                            ),
                        )),
                    }
                }
                let descending = grades.windows(2).all(|w| w[0].1 > w[1].1);
                if grades.is_empty() || !descending || grades.last().is_some_and(|(_, m)| *m != 0) {
                    errors.push(error(
                        Some(span),
                        "[credit] grades须从高到低排列, score_min递减, 最后一级为0".into(),
                    ));
                }
                Some(CreditScale {
                    score_start: c.score_start,
                    grades,
                })
            }
        };
        if rules.is_empty() && errors.is_empty() {
            errors.push(error(None, "[rules] 至少须列出一条规则".into()));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(MonitorPolicy {
            region: head.region.into_inner(),
            name: head.name.into_inner(),
            version: head.version.into_inner(),
            effective_from,
            effective_to,
            rules,
            thresholds,
            credit,
        })
    }
}

/// Checks a set of versions of one region's rule file: effective periods must not overlap.
pub fn check_versions(policies: &[MonitorPolicy]) -> Vec<String> {
    let mut sorted: Vec<&MonitorPolicy> = policies.iter().collect();
    sorted.sort_by_key(|p| p.effective_from);
    let mut problems = Vec::new();
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if a.region != b.region {
            problems.push(format!("监控规则{}与{}不属于同一统筹区", a.id(), b.id()));
        } else if a.effective_to.is_none_or(|to| to >= b.effective_from) {
            problems.push(format!(
                "监控规则{}({}起)与{}({}起)的有效期重叠",
                a.id(),
                a.effective_from,
                b.id(),
                b.effective_from
            ));
        }
    }
    problems
}

/// A rule file error with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleFileError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for RuleFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn date_of(value: &toml::Spanned<toml::value::Datetime>) -> Result<NaiveDate, String> {
    let datetime = value.get_ref();
    match (datetime.date, datetime.time) {
        (Some(d), None) => NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
            .ok_or_else(|| format!("日期{datetime}不存在")),
        _ => Err(format!("应为日期(如2026-01-01),而非{datetime}")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    monitor: RawHead,
    #[serde(default)]
    rules: BTreeMap<String, toml::Spanned<RawRule>>,
    #[serde(default)]
    credit: Option<toml::Spanned<RawCredit>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredit {
    score_start: u16,
    grades: Vec<RawGrade>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrade {
    grade: String,
    score_min: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHead {
    region: toml::Spanned<String>,
    name: toml::Spanned<String>,
    version: toml::Spanned<String>,
    effective_from: toml::Spanned<toml::value::Datetime>,
    #[serde(default)]
    effective_to: Option<toml::Spanned<toml::value::Datetime>>,
    #[serde(default)]
    #[allow(dead_code)] // read so that `deny_unknown_fields` accepts it; documentation only
    sources: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)]
    assumptions: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    action: toml::Spanned<Action>,
    #[serde(default)]
    child_age_years_max: Option<toml::Spanned<i64>>,
    #[serde(default)]
    neonate_days_max: Option<toml::Spanned<i64>>,
    #[serde(default)]
    infant_age_years_max: Option<toml::Spanned<i64>>,
    #[serde(default)]
    working_age_years_max: Option<toml::Spanned<i64>>,
    /// A decimal as text ("0.5"), read exactly.
    #[serde(default)]
    secondary_price_ratio: Option<toml::Spanned<String>>,
    #[serde(default)]
    readmission_days_max: Option<toml::Spanned<i64>>,
    #[serde(default)]
    idle_days_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    robust_z_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    peer_group_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    cases_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    group_persons_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    group_days_min: Option<toml::Spanned<i64>>,
    #[serde(default)]
    bucket_persons_max: Option<toml::Spanned<i64>>,
    #[serde(default)]
    bed_code_prefixes: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    routine_code_prefixes: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
}

impl RawRule {
    fn params(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut out = Vec::new();
        let mut add = |name, span: Option<std::ops::Range<usize>>| {
            if let Some(s) = span {
                out.push((name, s));
            }
        };
        add(
            "child_age_years_max",
            self.child_age_years_max.as_ref().map(toml::Spanned::span),
        );
        add(
            "neonate_days_max",
            self.neonate_days_max.as_ref().map(toml::Spanned::span),
        );
        add(
            "infant_age_years_max",
            self.infant_age_years_max.as_ref().map(toml::Spanned::span),
        );
        add(
            "working_age_years_max",
            self.working_age_years_max.as_ref().map(toml::Spanned::span),
        );
        add(
            "secondary_price_ratio",
            self.secondary_price_ratio.as_ref().map(toml::Spanned::span),
        );
        add(
            "readmission_days_max",
            self.readmission_days_max.as_ref().map(toml::Spanned::span),
        );
        add("idle_days_min", self.idle_days_min.as_ref().map(toml::Spanned::span));
        add("robust_z_min", self.robust_z_min.as_ref().map(toml::Spanned::span));
        add("peer_group_min", self.peer_group_min.as_ref().map(toml::Spanned::span));
        add("cases_min", self.cases_min.as_ref().map(toml::Spanned::span));
        add(
            "group_persons_min",
            self.group_persons_min.as_ref().map(toml::Spanned::span),
        );
        add("group_days_min", self.group_days_min.as_ref().map(toml::Spanned::span));
        add(
            "bucket_persons_max",
            self.bucket_persons_max.as_ref().map(toml::Spanned::span),
        );
        add(
            "bed_code_prefixes",
            self.bed_code_prefixes.as_ref().map(toml::Spanned::span),
        );
        add(
            "routine_code_prefixes",
            self.routine_code_prefixes.as_ref().map(toml::Spanned::span),
        );
        out
    }
}
