//! The policy checker: reads a policy file (TOML) into a [`Policy`], reporting every error it
//! finds with its line and a plain explanation, not just the first.
//!
//! The file walks a spanned TOML tree by hand rather than through serde so that unknown keys,
//! wrong types and semantic mistakes (a ratio of 1.2, bands out of order, a ratio table with no
//! row for 三级) are all collected in one pass.

use std::fmt;
use std::ops::Range;

use chrono::NaiveDate;
use toml::de::{DeTable, DeValue};
use toml::Spanned;
use yibao_codes::{FundPayType, HospitalLevel, InsuranceType, MedicalType, PersonType, SpecialGroup, Tier};
use yibao_money::{Money, Ratio, RatioPoints, Rounding};

use crate::model::*;

/// Policy files larger than this are refused before parsing: real ones are a few kilobytes.
pub const POLICY_FILE_BYTES_MAX: usize = 1 << 20;
/// At most this many errors are reported; the rest are usually consequences of the first ones.
pub const POLICY_ERRORS_MAX: usize = 200;

/// One problem in a policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Reads and checks a policy file. `file` is only used to name the file in errors.
pub fn parse_policy(file: &str, source: &str) -> Result<Policy, Vec<PolicyError>> {
    let mut ctx = Ctx {
        file,
        source,
        errors: Vec::new(),
    };
    if source.len() > POLICY_FILE_BYTES_MAX {
        ctx.error(0..0, format!("文件超过{}字节上限", POLICY_FILE_BYTES_MAX));
        return Err(ctx.errors);
    }
    let (root, syntax_errors) = DeTable::parse_recoverable(source);
    for e in &syntax_errors {
        let span = e.span().unwrap_or(0..0);
        ctx.error(span, format!("TOML语法错误: {}", e.message().trim()));
    }
    if !syntax_errors.is_empty() {
        return Err(ctx.errors);
    }
    let policy = ctx.policy(root.get_ref(), root.span());
    match policy {
        Some(p) if ctx.errors.is_empty() => Ok(p),
        _ => {
            ctx.errors.truncate(POLICY_ERRORS_MAX);
            Err(ctx.errors)
        }
    }
}

type Value<'i> = Spanned<DeValue<'i>>;

struct Ctx<'a> {
    file: &'a str,
    source: &'a str,
    errors: Vec<PolicyError>,
}

/// The keys a condition table (`when`, and each row of a value table) may use.
const CONDITION_KEYS: &[&str] = &[
    "insurance",
    "person",
    "level",
    "tier",
    "group",
    "medical_type",
    "disease",
    "civil_servant",
    "in_county",
    "referred",
    "age_min",
    "age_max",
];

impl<'a> Ctx<'a> {
    fn line_of(&self, span: Range<usize>) -> usize {
        let start = span.start.min(self.source.len());
        self.source[..start].matches('\n').count() + 1
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        // Errors past the cap are dropped unlocated: locating one scans the file, and a file of
        // one broken line repeated would otherwise take minutes to report.
        if self.errors.len() >= POLICY_ERRORS_MAX {
            return;
        }
        let start = span.start.min(self.source.len());
        let before = &self.source[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        self.errors.push(PolicyError {
            file: self.file.to_owned(),
            line,
            column,
            message: message.into(),
        });
    }

    /// Reports keys not in `allowed`.
    fn check_keys(&mut self, table: &DeTable, path: &str, allowed: &[&str]) {
        for (key, _) in table.iter() {
            if !allowed.contains(&key.get_ref().as_ref_str()) {
                self.error(
                    key.span(),
                    format!(
                        "{path} 中没有“{}”这个键;可用的键: {}",
                        key.get_ref(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn required<'v, 'i>(
        &mut self,
        table: &'v DeTable<'i>,
        span: Range<usize>,
        path: &str,
        key: &str,
    ) -> Option<&'v Value<'i>> {
        let value = table.get(key);
        if value.is_none() {
            self.error(span, format!("{path} 缺少必需的键“{key}”"));
        }
        value
    }

    fn table<'v, 'i>(&mut self, value: &'v Value<'i>, what: &str) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.error(value.span(), format!("{what} 应为表(table)"));
                None
            }
        }
    }

    fn string(&mut self, value: &Value, what: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.error(value.span(), format!("{what} 应为字符串"));
                None
            }
        }
    }

    /// The exact decimal text of a number or numeric string.
    fn number_text(&mut self, value: &Value, what: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => Some(i.as_str().replace('_', "")),
            DeValue::Float(f) => Some(f.as_str().replace('_', "")),
            DeValue::String(s) => Some(s.to_string()),
            _ => {
                self.error(value.span(), format!("{what} 应为数字"));
                None
            }
        }
    }

    fn money(&mut self, value: &Value, what: &str) -> Option<Money> {
        let text = self.number_text(value, what)?;
        match Money::parse_yuan(&text) {
            Ok(m) if !m.is_negative() => Some(m),
            Ok(_) => {
                self.error(value.span(), format!("{what} 不能为负数"));
                None
            }
            Err(e) => {
                self.error(value.span(), format!("{what} “{text}”: {e}"));
                None
            }
        }
    }

    fn ratio(&mut self, value: &Value, what: &str) -> Option<Ratio> {
        let text = self.number_text(value, what)?;
        match Ratio::parse(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(value.span(), format!("{what} “{text}”: {e}(比例写作小数,如70%写0.7)"));
                None
            }
        }
    }

    fn points(&mut self, value: &Value, what: &str) -> Option<RatioPoints> {
        let text = self.number_text(value, what)?;
        match RatioPoints::parse(&text) {
            Ok(r) => Some(r),
            Err(e) => {
                self.error(value.span(), format!("{what} “{text}”: {e}(10个百分点写0.10)"));
                None
            }
        }
    }

    fn integer(&mut self, value: &Value, what: &str, range: Range<i64>) -> Option<i64> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) if i.radix() == 10 => i.as_str().replace('_', "").parse::<i64>().ok(),
            _ => None,
        };
        match parsed {
            Some(n) if range.contains(&n) => Some(n),
            _ => {
                self.error(
                    value.span(),
                    format!("{what} 应为{}到{}之间的整数", range.start, range.end - 1),
                );
                None
            }
        }
    }

    fn boolean(&mut self, value: &Value, what: &str) -> Option<bool> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            _ => {
                self.error(value.span(), format!("{what} 应为 true 或 false"));
                None
            }
        }
    }

    fn date(&mut self, value: &Value, what: &str) -> Option<NaiveDate> {
        let text = match value.get_ref() {
            DeValue::Datetime(d) if d.time.is_none() => d.to_string(),
            DeValue::String(s) => s.to_string(),
            _ => String::new(),
        };
        match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                self.error(value.span(), format!("{what} 应为日期,如 2024-01-01"));
                None
            }
        }
    }

    /// A single item or a list of items, each parsed by `item`.
    fn list<T>(
        &mut self,
        value: &Value,
        what: &str,
        mut item: impl FnMut(&mut Self, &Value) -> Option<T>,
    ) -> Option<Vec<T>> {
        match value.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for v in items.iter() {
                    match item(self, v) {
                        Some(x) => out.push(x),
                        None => ok = false,
                    }
                }
                if out.is_empty() && ok {
                    self.error(value.span(), format!("{what} 不能为空列表"));
                    return None;
                }
                ok.then_some(out)
            }
            _ => item(self, value).map(|x| vec![x]),
        }
    }

    /// A code parsed from a string or integer.
    fn code<T, E: fmt::Display>(
        &mut self,
        value: &Value,
        what: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) => i.as_str().to_owned(),
            _ => {
                self.error(value.span(), format!("{what} 应为代码字符串"));
                return None;
            }
        };
        match parse(&text) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error(value.span(), format!("{what}: {e}"));
                None
            }
        }
    }

    fn conditions_from(&mut self, table: &DeTable, path: &str, extra_keys: &[&str]) -> Option<Conditions> {
        let allowed: Vec<&str> = CONDITION_KEYS.iter().chain(extra_keys).copied().collect();
        self.check_keys(table, path, &allowed);
        let mut c = Conditions::default();
        let mut ok = true;
        for (key, value) in table.iter() {
            let key = key.get_ref().as_ref_str();
            let what = format!("{path}.{key}");
            let done = match key {
                "insurance" => self
                    .list(value, &what, |s, v| s.code(v, &what, InsuranceType::parse))
                    .map(|v| c.insurance = v),
                "person" => self
                    .list(value, &what, |s, v| s.code(v, &what, PersonType::parse))
                    .map(|v| c.person = v),
                "level" => self
                    .list(value, &what, |s, v| {
                        let n = s.integer(v, &what, 1..4)?;
                        HospitalLevel::from_number(n)
                    })
                    .map(|v| c.level = v),
                "tier" => self
                    .list(value, &what, |s, v| Tier::from_number(s.integer(v, &what, 1..3)?))
                    .map(|v| c.tier = v),
                "group" => self
                    .list(value, &what, |s, v| s.code(v, &what, SpecialGroup::parse))
                    .map(|v| c.groups = v.into_iter().collect()),
                "medical_type" => self
                    .list(value, &what, |s, v| s.code(v, &what, MedicalType::parse))
                    .map(|v| c.medical_type = v),
                "disease" => self
                    .list(value, &what, |s, v| s.string(v, &what))
                    .map(|v| c.disease = v),
                "civil_servant" => self.boolean(value, &what).map(|v| c.civil_servant = Some(v)),
                "in_county" => self.boolean(value, &what).map(|v| c.in_county = Some(v)),
                "referred" => self.boolean(value, &what).map(|v| c.referred = Some(v)),
                "age_min" => self
                    .integer(value, &what, 0..151)
                    .map(|v| c.age_years_min = Some(v as u16)),
                "age_max" => self
                    .integer(value, &what, 0..151)
                    .map(|v| c.age_years_max = Some(v as u16)),
                _ => Some(()),
            };
            ok &= done.is_some();
        }
        ok.then_some(c)
    }

    fn conditions(&mut self, value: &Value, path: &str) -> Option<Conditions> {
        let table = self.table(value, path)?;
        self.conditions_from(table, path, &[])
    }

    /// A value table: a scalar, or a list of rows `{ <conditions>, value = … }`, first match wins.
    fn rule_table<T: Copy>(
        &mut self,
        value: &Value,
        what: &str,
        scalar: impl Fn(&mut Self, &Value, &str) -> Option<T>,
    ) -> Option<RuleTable<T>> {
        match value.get_ref() {
            DeValue::Array(rows) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (i, row) in rows.iter().enumerate() {
                    let row_path = format!("{what}[{}]", i + 1);
                    let Some(table) = self.table(row, &row_path) else {
                        ok = false;
                        continue;
                    };
                    let conditions = self.conditions_from(table, &row_path, &["value"]);
                    let v = match table.get("value") {
                        Some(v) => scalar(self, v, &format!("{row_path}.value")),
                        None => {
                            self.error(row.span(), format!("{row_path} 缺少“value”"));
                            None
                        }
                    };
                    match (conditions, v) {
                        (Some(c), Some(v)) => out.push((c, v)),
                        _ => ok = false,
                    }
                }
                if out.is_empty() && ok {
                    self.error(value.span(), format!("{what} 不能为空列表"));
                    return None;
                }
                if let Some(pos) = out.iter().position(|(c, _)| c.is_empty()) {
                    if pos + 1 < out.len() {
                        self.error(
                            value.span(),
                            format!("{what} 第{}行没有条件,其后的行永远不会被用到", pos + 1),
                        );
                        ok = false;
                    }
                }
                ok.then_some(RuleTable { rows: out })
            }
            _ => scalar(self, value, what).map(RuleTable::single),
        }
    }

    fn policy(&mut self, root: &DeTable, span: Range<usize>) -> Option<Policy> {
        self.check_keys(root, "文件", &["policy", "waiting_period", "benefit"]);
        let header = self.required(root, span.clone(), "文件", "policy");
        let header = header.and_then(|h| self.table(h, "[policy]").map(|t| (t, h.span())));
        let mut policy = Policy {
            region: String::new(),
            name: String::new(),
            version: String::new(),
            effective_from: NaiveDate::MIN,
            effective_to: None,
            year_start: (1, 1),
            rounding: Rounding::HalfUp,
            sources: Vec::new(),
            assumptions: Vec::new(),
            waiting_period: None,
            benefits: Vec::new(),
        };
        if let Some((table, span)) = header {
            self.header(table, span, &mut policy);
        }
        if let Some(w) = root.get("waiting_period") {
            policy.waiting_period = self.waiting_period(w);
        }
        let mut benefit_items = Vec::new();
        match root.get("benefit") {
            Some(v) => match v.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(b) = self.benefit(item, i + 1) {
                            policy.benefits.push(b);
                            benefit_items.push(item);
                        }
                    }
                }
                _ => self.error(v.span(), "benefit 应写作 [[benefit]] 表数组"),
            },
            None => self.error(span, "文件中没有任何 [[benefit]]:至少需要一个待遇项目"),
        }
        let ids = policy
            .benefits
            .iter()
            .zip(&benefit_items)
            .map(|(b, item)| (b.id.as_str(), key_span(item, "id")));
        self.check_unique(ids, "benefit.id");
        Some(policy)
    }

    /// Reports each id seen before, at the later one.
    fn check_unique<'s>(&mut self, ids: impl Iterator<Item = (&'s str, Range<usize>)>, what: &str) {
        let mut seen: Vec<&str> = Vec::new();
        for (id, span) in ids {
            if seen.contains(&id) {
                self.error(span, format!("{what}“{id}”重复"));
            }
            seen.push(id);
        }
    }

    fn header(&mut self, table: &DeTable, span: Range<usize>, policy: &mut Policy) {
        let keys = [
            "region",
            "name",
            "version",
            "effective_from",
            "effective_to",
            "year_start",
            "rounding",
            "sources",
            "assumptions",
        ];
        self.check_keys(table, "[policy]", &keys);
        if let Some(v) = self.required(table, span.clone(), "[policy]", "region") {
            if let Some(region) = self.string(v, "policy.region") {
                if region.len() == 6 && region.bytes().all(|b| b.is_ascii_digit()) {
                    policy.region = region;
                } else {
                    self.error(v.span(), "policy.region 应为6位医保区划代码,如 500000");
                }
            }
        }
        for (key, slot) in [("name", &mut policy.name), ("version", &mut policy.version)] {
            if let Some(v) = self.required(table, span.clone(), "[policy]", key) {
                if let Some(s) = self.string(v, &format!("policy.{key}")) {
                    if s.is_empty() || s.chars().count() > 100 {
                        self.error(v.span(), format!("policy.{key} 不能为空且不超过100字"));
                    }
                    *slot = s;
                }
            }
        }
        if let Some(v) = self.required(table, span, "[policy]", "effective_from") {
            if let Some(d) = self.date(v, "policy.effective_from") {
                policy.effective_from = d;
            }
        }
        if let Some(v) = table.get("effective_to") {
            policy.effective_to = self.date(v, "policy.effective_to");
            if policy.effective_to.is_some_and(|to| to < policy.effective_from) {
                self.error(v.span(), "policy.effective_to 早于 effective_from");
            }
        }
        if let Some(v) = table.get("year_start") {
            let parsed = self.string(v, "policy.year_start").and_then(|s| {
                let (m, d) = s.split_once('-')?;
                let (m, d) = (m.parse().ok()?, d.parse().ok()?);
                NaiveDate::from_ymd_opt(2001, m, d).map(|_| (m, d))
            });
            match parsed {
                Some(md) => policy.year_start = md,
                None => self.error(v.span(), "policy.year_start 应为“月-日”,如 \"01-01\""),
            }
        }
        if let Some(v) = table.get("rounding") {
            match self.string(v, "policy.rounding").as_deref() {
                Some("half_up") => policy.rounding = Rounding::HalfUp,
                Some("down") => policy.rounding = Rounding::Down,
                Some("up") => policy.rounding = Rounding::Up,
                Some(_) => self.error(
                    v.span(),
                    "policy.rounding 应为 half_up(四舍五入)、down(舍去)或 up(进一)",
                ),
                None => {}
            }
        }
        for (key, slot) in [
            ("sources", &mut policy.sources),
            ("assumptions", &mut policy.assumptions),
        ] {
            if let Some(v) = table.get(key) {
                if let Some(list) = self.list(v, &format!("policy.{key}"), |s, v| s.string(v, key)) {
                    *slot = list;
                }
            }
        }
    }

    fn waiting_period(&mut self, value: &Value) -> Option<WaitingPeriod> {
        let table = self.table(value, "[waiting_period]")?;
        let keys = [
            "fixed_months",
            "months_per_extra_lapsed_year",
            "long_lapse_years",
            "long_lapse_months_min",
        ];
        self.check_keys(table, "[waiting_period]", &keys);
        let mut numbers = [0u32; 4];
        let mut ok = true;
        for (slot, key) in numbers.iter_mut().zip(keys) {
            match self.required(table, value.span(), "[waiting_period]", key) {
                Some(v) => match self.integer(v, &format!("waiting_period.{key}"), 0..121) {
                    Some(n) => *slot = n as u32,
                    None => ok = false,
                },
                None => ok = false,
            }
        }
        ok.then_some(WaitingPeriod {
            fixed_months: numbers[0],
            months_per_extra_lapsed_year: numbers[1],
            long_lapse_years: numbers[2],
            long_lapse_months_min: numbers[3],
        })
    }

    fn benefit(&mut self, value: &Value, number: usize) -> Option<Benefit> {
        let path = format!("benefit[{number}]");
        let table = self.table(value, &path)?;
        self.check_keys(
            table,
            &path,
            &["id", "name", "when", "split_by", "account", "family_account", "stage"],
        );
        let id = self
            .required(table, value.span(), &path, "id")
            .and_then(|v| self.identifier(v, &path));
        let name = self
            .required(table, value.span(), &path, "name")
            .and_then(|v| self.string(v, &path));
        let when = match self.required(table, value.span(), &path, "when") {
            Some(v) => self.conditions(v, &format!("{path}.when")),
            None => None,
        };
        if let (Some(when), Some(v)) = (&when, table.get("when")) {
            if !when.disease.is_empty() {
                self.error(
                    v.span(),
                    format!("{path}.when 不能按 disease 选择待遇(病种在分组后才知道);把病种条件写在阶段的 when 或值表的行里"),
                );
            }
            if when.insurance.is_empty() || when.medical_type.is_empty() {
                self.error(
                    v.span(),
                    format!("{path}.when 必须写明 insurance(险种)和 medical_type(医疗类别)"),
                );
            }
        }
        let split_by_disease = match table.get("split_by") {
            Some(v) => match self.string(v, &format!("{path}.split_by")).as_deref() {
                Some("disease") => true,
                Some(_) => {
                    self.error(v.span(), format!("{path}.split_by 只能是 \"disease\"(按病种分别结算)"));
                    false
                }
                None => false,
            },
            None => false,
        };
        let account = match table.get("account") {
            Some(v) => self.buckets(v, &format!("{path}.account")).unwrap_or_default(),
            None => Vec::new(),
        };
        let family_account = match table.get("family_account") {
            Some(v) => self.buckets(v, &format!("{path}.family_account")).unwrap_or_default(),
            None => Vec::new(),
        };
        let mut stages = Vec::new();
        // The position in the file and the item of each stage that parsed, to point at.
        let mut stage_items = Vec::new();
        if let Some(v) = table.get("stage") {
            match v.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(stage) = self.stage(item, &format!("{path}.stage[{}]", i + 1), id.as_deref()) {
                            stages.push(stage);
                            stage_items.push((i + 1, item));
                        }
                    }
                }
                _ => self.error(v.span(), format!("{path}.stage 应写作 [[benefit.stage]] 表数组")),
            }
        }
        let ids = stages
            .iter()
            .zip(&stage_items)
            .map(|(s, (_, item))| (s.id.as_str(), key_span(item, "id")));
        self.check_unique(ids, &format!("{path}.stage.id"));
        for (stage, (number, item)) in stages.iter().zip(&stage_items) {
            if stage.base == Base::PolicyScope && *number != 1 {
                self.error(
                    key_span(item, "base"),
                    format!("{path}.stage[{number}]: base = \"policy_scope\" 的阶段(基本统筹)必须是第一个阶段"),
                );
            }
            if stage.accumulator.contains("{disease}") && !split_by_disease {
                self.error(
                    key_span(item, "accumulator"),
                    format!("{path}.stage[{number}]: 累计器名含 {{disease}} 但本待遇没有 split_by = \"disease\""),
                );
            }
        }
        Some(Benefit {
            line: self.line_of(value.span()),
            id: id?,
            name: name?,
            when: when?,
            split_by_disease,
            account,
            family_account,
            stages,
        })
    }

    fn identifier(&mut self, value: &Value, path: &str) -> Option<String> {
        let s = self.string(value, &format!("{path}.id"))?;
        let ok =
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            self.error(
                value.span(),
                format!("{path}.id 只能由字母、数字、- 和 _ 组成(不超过64个字符)"),
            );
            return None;
        }
        Some(s)
    }

    fn buckets(&mut self, value: &Value, what: &str) -> Option<Vec<Bucket>> {
        let all: Vec<&str> = Bucket::ALL.iter().map(|b| b.key()).collect();
        let list = self.list(value, what, |s, v| {
            let key = s.string(v, what)?;
            let bucket = Bucket::from_key(&key);
            if bucket.is_none() {
                s.error(
                    v.span(),
                    format!("{what}: 没有“{key}”这一部分;可用: {}", all.join(", ")),
                );
            }
            bucket
        })?;
        let mut seen = Vec::new();
        for b in &list {
            if seen.contains(b) {
                self.error(value.span(), format!("{what}: “{}”重复", b.key()));
                return None;
            }
            seen.push(*b);
        }
        Some(list)
    }

    fn stage(&mut self, value: &Value, path: &str, benefit_id: Option<&str>) -> Option<Stage> {
        let table = self.table(value, path)?;
        let keys = [
            "id",
            "name",
            "fund",
            "when",
            "base",
            "accumulator",
            "deductible",
            "ratio",
            "band",
            "band_basis",
            "band_scope",
            "cap",
            "modifier",
        ];
        self.check_keys(table, path, &keys);
        let span = value.span();
        let id = self
            .required(table, span.clone(), path, "id")
            .and_then(|v| self.identifier(v, path));
        let name = self
            .required(table, span.clone(), path, "name")
            .and_then(|v| self.string(v, path));
        let fund = self
            .required(table, span.clone(), path, "fund")
            .and_then(|v| self.code(v, &format!("{path}.fund"), FundPayType::parse));
        if let (Some(fund), Some(v)) = (fund, table.get("fund")) {
            if fund == FundPayType::EmployeeAccount {
                self.error(
                    v.span(),
                    format!("{path}.fund: 个人账户不是统筹阶段;用 benefit.account 说明账户可支付的部分"),
                );
            }
        }
        let when = match table.get("when") {
            Some(v) => self.conditions(v, &format!("{path}.when")),
            None => Some(Conditions::default()),
        };
        let base = match self.required(table, span.clone(), path, "base") {
            Some(v) => match v.get_ref() {
                DeValue::String(s) if s.as_ref() == "policy_scope" => Some(Base::PolicyScope),
                _ => self.buckets(v, &format!("{path}.base")).map(Base::Buckets),
            },
            None => None,
        };
        // By default a stage's accumulator is its own (`benefit-id.stage-id`); stages that must
        // share deductible and limits name the same accumulator explicitly.
        let accumulator = match table.get("accumulator") {
            Some(v) => match self.string(v, &format!("{path}.accumulator")) {
                Some(name) if !name.is_empty() && name.len() <= 64 => Some(name),
                Some(_) => {
                    self.error(v.span(), format!("{path}.accumulator 不能为空且不超过64个字符"));
                    None
                }
                None => None,
            },
            None => match (benefit_id, &id) {
                (Some(b), Some(s)) => Some(format!("{b}.{s}")),
                _ => None,
            },
        };
        let deductible = match table.get("deductible") {
            Some(v) => self.deductible(v, &format!("{path}.deductible")).map(Some),
            None => Some(None),
        };
        let bands = self.bands(table, span.clone(), path);
        let band_basis = match table.get("band_basis") {
            Some(v) => match self.string(v, &format!("{path}.band_basis")).as_deref() {
                Some("after_deductible") => Some(BandBasis::AfterDeductible),
                Some("total") => Some(BandBasis::Total),
                _ => {
                    self.error(
                        v.span(),
                        format!("{path}.band_basis 应为 \"after_deductible\" 或 \"total\""),
                    );
                    None
                }
            },
            None => Some(BandBasis::AfterDeductible),
        };
        let band_scope = match table.get("band_scope") {
            Some(v) => match self.string(v, &format!("{path}.band_scope")).as_deref() {
                Some("visit") => Some(BandScope::Visit),
                Some("year") => Some(BandScope::Year),
                _ => {
                    self.error(v.span(), format!("{path}.band_scope 应为 \"visit\" 或 \"year\""));
                    None
                }
            },
            None => Some(BandScope::Visit),
        };
        let caps = match table.get("cap") {
            Some(v) => self.caps(v, &format!("{path}.cap")),
            None => Some(Caps::default()),
        };
        let mut modifiers = Vec::new();
        if let Some(v) = table.get("modifier") {
            match v.get_ref() {
                DeValue::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        if let Some(m) = self.modifier(item, &format!("{path}.modifier[{}]", i + 1)) {
                            modifiers.push(m);
                        }
                    }
                }
                _ => self.error(
                    v.span(),
                    format!("{path}.modifier 应写作 [[benefit.stage.modifier]] 表数组"),
                ),
            }
        }
        Some(Stage {
            line: self.line_of(span),
            id: id?,
            name: name?,
            fund: fund?,
            when: when?,
            base: base?,
            accumulator: accumulator?,
            deductible: deductible?,
            bands: bands?,
            band_basis: band_basis?,
            band_scope: band_scope?,
            caps: caps?,
            modifiers,
        })
    }

    fn bands(&mut self, table: &DeTable, span: Range<usize>, path: &str) -> Option<Vec<Band>> {
        let ratio = table.get("ratio");
        let band = table.get("band");
        match (ratio, band) {
            (Some(_), Some(b)) => {
                self.error(
                    b.span(),
                    format!("{path}: ratio 与 [[band]] 只能写一个(分段时把比例写在每一段里)"),
                );
                None
            }
            (None, None) => {
                self.error(
                    span,
                    format!("{path} 缺少 ratio(支付比例)或 [[benefit.stage.band]](分段比例)"),
                );
                None
            }
            (Some(r), None) => {
                let table = self.rule_table(r, &format!("{path}.ratio"), |s, v, w| s.ratio(v, w))?;
                Some(vec![Band {
                    upto: None,
                    ratio: table,
                }])
            }
            (None, Some(b)) => {
                let DeValue::Array(items) = b.get_ref() else {
                    self.error(b.span(), format!("{path}.band 应写作 [[benefit.stage.band]] 表数组"));
                    return None;
                };
                let mut bands = Vec::new();
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    let band_path = format!("{path}.band[{}]", i + 1);
                    let Some(t) = self.table(item, &band_path) else {
                        ok = false;
                        continue;
                    };
                    self.check_keys(t, &band_path, &["upto", "ratio"]);
                    let upto = match t.get("upto") {
                        Some(v) => self.money(v, &format!("{band_path}.upto")).map(Some),
                        None => Some(None),
                    };
                    let ratio = self
                        .required(t, item.span(), &band_path, "ratio")
                        .and_then(|v| self.rule_table(v, &format!("{band_path}.ratio"), |s, v, w| s.ratio(v, w)));
                    match (upto, ratio) {
                        (Some(upto), Some(ratio)) => bands.push((item.span(), Band { upto, ratio })),
                        _ => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                let mut previous = Money::ZERO;
                for (i, (band_span, band)) in bands.iter().enumerate() {
                    let last = i + 1 == bands.len();
                    match band.upto {
                        Some(upto) if upto <= previous => {
                            self.error(
                                band_span.clone(),
                                format!("{path}.band[{}]: upto 必须大于上一段的 {previous}", i + 1),
                            );
                            ok = false;
                        }
                        Some(upto) => previous = upto,
                        None if !last => {
                            self.error(
                                band_span.clone(),
                                format!("{path}.band[{}]: 只有最后一段可以省略 upto", i + 1),
                            );
                            ok = false;
                        }
                        None => {}
                    }
                }
                ok.then(|| bands.into_iter().map(|(_, b)| b).collect())
            }
        }
    }

    fn deductible(&mut self, value: &Value, path: &str) -> Option<Deductible> {
        let table = self.table(value, path)?;
        self.check_keys(table, path, &["per", "amount", "subsequent", "annual_max"]);
        let per = match self.required(table, value.span(), path, "per") {
            Some(v) => match self.string(v, &format!("{path}.per")).as_deref() {
                Some("visit") => Some(DeductiblePer::Visit),
                Some("admission") => Some(DeductiblePer::Admission),
                Some("year") => Some(DeductiblePer::Year),
                _ => {
                    self.error(
                        v.span(),
                        format!("{path}.per 应为 \"visit\"(每次)、\"admission\"(每次住院)或 \"year\"(年度累计)"),
                    );
                    None
                }
            },
            None => None,
        };
        let amount = self
            .required(table, value.span(), path, "amount")
            .and_then(|v| self.rule_table(v, &format!("{path}.amount"), |s, v, w| s.money(v, w)));
        let subsequent = match table.get("subsequent") {
            Some(v) => {
                if per.is_some_and(|p| p != DeductiblePer::Admission) {
                    self.error(v.span(), format!("{path}.subsequent 只适用于 per = \"admission\""));
                }
                self.subsequent(v, &format!("{path}.subsequent")).map(Some)
            }
            None => Some(None),
        };
        let annual_max = match table.get("annual_max") {
            Some(v) => self
                .rule_table(v, &format!("{path}.annual_max"), |s, v, w| s.money(v, w))
                .map(Some),
            None => Some(None),
        };
        Some(Deductible {
            per: per?,
            amount: amount?,
            subsequent: subsequent?,
            annual_max: annual_max?,
        })
    }

    fn subsequent(&mut self, value: &Value, path: &str) -> Option<Subsequent> {
        let table = self.table(value, path)?;
        self.check_keys(table, path, &["factor", "minus", "floor"]);
        match (table.get("factor"), table.get("minus")) {
            (Some(f), None) => {
                if let Some(floor) = table.get("floor") {
                    self.error(
                        floor.span(),
                        format!("{path}.floor 只与 minus 一起使用;factor 按比例降低,没有下限"),
                    );
                }
                self.ratio(f, &format!("{path}.factor")).map(Subsequent::Factor)
            }
            (None, Some(m)) => {
                let step = self.money(m, &format!("{path}.minus"));
                let floor = self
                    .required(table, value.span(), path, "floor")
                    .and_then(|v| self.rule_table(v, &format!("{path}.floor"), |s, v, w| s.money(v, w)));
                Some(Subsequent::Minus {
                    step: step?,
                    floor: floor?,
                })
            }
            _ => {
                self.error(
                    value.span(),
                    format!("{path} 应写 factor = 0.5(按比例降低)或 minus = 100 与 floor(逐次降低至下限),二者选一"),
                );
                None
            }
        }
    }

    fn caps(&mut self, value: &Value, path: &str) -> Option<Caps> {
        let table = self.table(value, path)?;
        self.check_keys(table, path, &["annual", "per_visit", "annual_base"]);
        let mut caps = Caps::default();
        let mut ok = true;
        for (key, slot) in [
            ("annual", &mut caps.annual),
            ("per_visit", &mut caps.per_visit),
            ("annual_base", &mut caps.annual_base),
        ] {
            if let Some(v) = table.get(key) {
                match self.rule_table(v, &format!("{path}.{key}"), |s, v, w| s.money(v, w)) {
                    Some(t) => *slot = Some(t),
                    None => ok = false,
                }
            }
        }
        ok.then_some(caps)
    }

    fn modifier(&mut self, value: &Value, path: &str) -> Option<Modifier> {
        let table = self.table(value, path)?;
        self.check_keys(
            table,
            path,
            &["when", "ratio_add", "deductible_factor", "no_cap", "note"],
        );
        let when = self
            .required(table, value.span(), path, "when")
            .and_then(|v| self.conditions(v, &format!("{path}.when")));
        let ratio_add = match table.get("ratio_add") {
            Some(v) => self.points(v, &format!("{path}.ratio_add")),
            None => Some(RatioPoints::ZERO),
        };
        let deductible_factor = match table.get("deductible_factor") {
            Some(v) => self.ratio(v, &format!("{path}.deductible_factor")).map(Some),
            None => Some(None),
        };
        let no_cap = match table.get("no_cap") {
            Some(v) => self.boolean(v, &format!("{path}.no_cap")),
            None => Some(false),
        };
        let note = match self.required(table, value.span(), path, "note") {
            Some(v) => self.string(v, &format!("{path}.note")),
            None => None,
        };
        if ratio_add == Some(RatioPoints::ZERO) && deductible_factor == Some(None) && no_cap == Some(false) {
            self.error(
                value.span(),
                format!("{path} 没有任何调整:写 ratio_add、deductible_factor 或 no_cap"),
            );
        }
        Some(Modifier {
            when: when?,
            ratio_add: ratio_add?,
            deductible_factor: deductible_factor?,
            no_cap: no_cap?,
            note: note?,
        })
    }
}

/// Where `key`'s value is in a table item, or the item itself when it has no such key.
fn key_span(item: &Value, key: &str) -> Range<usize> {
    match item.get_ref() {
        DeValue::Table(t) => t.get(key).map_or_else(|| item.span(), |v| v.span()),
        _ => item.span(),
    }
}

trait AsRefStr {
    fn as_ref_str(&self) -> &str;
}

impl AsRefStr for toml::de::DeString<'_> {
    fn as_ref_str(&self) -> &str {
        self.as_ref()
    }
}
