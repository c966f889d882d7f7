//! The DIP catalog (病种目录库) built from a region's historical cases, and the grouping of a case
//! into it.
//!
//! **Group key.** Every case is labelled by its principal diagnosis's 亚目 (ICD-10 医保版
//! subcategory: the first 5 characters, `I21.001` → `I21.0`; a code of 3 or 4 characters is its
//! own key) × the *set* of its procedure codes (sorted, duplicates removed, full ICD-9-CM-3 codes).
//! This is the reference's "principal diagnosis (subcategory level) × procedure combination"
//! (§2.2) and Node-DIP's 5-character cache key. The combination is a conjunction: a new case
//! matches a core group only with exactly the same set of procedures.
//!
//! **Core or comprehensive.** A key with at least `core_case_count_min` cases over all the years
//! (counted, not weighted) is a core group (核心病种). The other cases fold into comprehensive
//! groups (综合病种) by the diagnosis's 类目 (first 3 characters) × treatment kind (治疗方式).
//!
//! **Treatment kind.** The kind of the main (first) procedure, from a caller-supplied
//! [`ProcedureClassifier`] (e.g. built from OpenDRG's 国临版手术操作分类); no procedure is 保守治疗.
//! Without a table every procedure counts as 相关手术, so comprehensive groups split only into
//! conservative and procedural. The main procedure decides, as in DIP 3.0 where an excluded
//! *principal* procedure makes the case conservative (map such codes to
//! [`TreatmentKind::Conservative`]).
//!
//! **Costs and scores.** Per group and year, the average cost `y_k = S_k ÷ n_k`, rounded half up to
//! the fen (四舍五入) because that is the figure a catalog publishes. The weighted average
//! `m_i = Σ w_k·y_k ÷ Σ w_k` over the years in which the group has cases (the weights of years
//! without cases are dropped, i.e. the others renormalised), rounded half up to the fen. `M` is the
//! same over all cases of the region. `score = m_i ÷ M × score_scale`, rounded half up to 4
//! decimals. Each step starts from the published (rounded) figure of the step before, so anyone can
//! recompute a score from the catalog file. No outlier trimming: the reference gives none for DIP.
//!
//! **Standard cost for outliers.** The reference's denominator is 上一年度同级别定点医疗机构该病种
//! 次均医疗总费用: the group's average cost at hospitals of the same level in the newest catalog
//! year ([`DipGroup::level_average_costs`]); a level without cases that year falls back to the
//! group's weighted average `m_i`.
//!
//! **Budget point value** (预算点值): `Σ w_k·T_k ÷ Σ_i score_i·(Σ w_k·n_ik)`, `T_k` the region's total
//! cost of year k; the common `÷ Σ w_k` cancels, so it is one exact quotient, rounded down to 6
//! decimals (舍去, like the settlement point value: rounding never grows the pool).
//!
//! **Speed.** One pass over the cases: each key is built into a reused buffer and looked up in an
//! `FxHashMap` whose values are indexes into a vector of small accumulators (so the table stays
//! compact when it grows); a key is allocated only the first time it is seen.

use std::fmt;

use rustc_hash::FxHashMap;
use yibao_codes::HospitalLevel;
use yibao_money::{Money, Rounding};

use crate::fixed::{PointValue, Score, SCORE_SCALE};
use crate::params::DipParams;
use crate::DipError;

/// The most cases one build or one settlement accepts.
pub const CASES_MAX: usize = 20_000_000;
/// The most procedures on one case.
pub const PROCEDURES_PER_CASE_MAX: usize = 32;
/// The longest diagnosis or procedure code, in bytes.
pub const CODE_LEN_MAX: usize = 20;
/// The largest total cost of one case: 1亿元, far above any real admission. With [`CASES_MAX`] it
/// keeps every sum of costs inside `i64` fen.
pub const CASE_COST_FEN_MAX: i64 = 10_000_000_000;

/// Scores and group averages are rounded half up (四舍五入), as published figures are.
pub const SCORE_ROUNDING: Rounding = Rounding::HalfUp;
/// Point values are rounded down (舍去): the pool is a hard budget that rounding must not exceed.
pub const POINT_VALUE_ROUNDING: Rounding = Rounding::Down;

/// One settled inpatient case of the historical years.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoricalCase {
    pub case_id: String,
    /// The calendar year; must be one of the years the catalog is built from.
    pub year: i32,
    pub hospital_id: String,
    pub hospital_level: HospitalLevel,
    /// 医保版 ICD-10 code, e.g. `I21.001`.
    pub principal_diagnosis: String,
    /// 医保版 ICD-9-CM-3 codes, the main procedure first.
    pub procedures: Vec<String>,
    /// 医疗总费用 of the admission.
    pub total_cost: Money,
}

/// 治疗方式: how a comprehensive group is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreatmentKind {
    /// 保守治疗: no procedure (or only procedures mapped to it).
    Conservative,
    /// 诊断性操作
    Diagnostic,
    /// 治疗性操作
    Therapeutic,
    /// 相关手术
    Surgery,
}

impl TreatmentKind {
    pub const ALL: [TreatmentKind; 4] = [
        TreatmentKind::Conservative,
        TreatmentKind::Diagnostic,
        TreatmentKind::Therapeutic,
        TreatmentKind::Surgery,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            TreatmentKind::Conservative => "保守治疗",
            TreatmentKind::Diagnostic => "诊断性操作",
            TreatmentKind::Therapeutic => "治疗性操作",
            TreatmentKind::Surgery => "相关手术",
        }
    }

    /// The ASCII name used in files: `conservative`, `diagnostic`, `therapeutic`, `surgery`.
    pub fn code(self) -> &'static str {
        match self {
            TreatmentKind::Conservative => "conservative",
            TreatmentKind::Diagnostic => "diagnostic",
            TreatmentKind::Therapeutic => "therapeutic",
            TreatmentKind::Surgery => "surgery",
        }
    }

    /// Accepts the ASCII name or the Chinese one; also `手术` and `介入治疗` (the 国临版 classes)
    /// as 相关手术.
    pub fn parse(text: &str) -> Option<TreatmentKind> {
        let t = text.trim();
        TreatmentKind::ALL
            .into_iter()
            .find(|k| k.code() == t || k.name_zh() == t)
            .or(match t {
                "手术" | "介入治疗" => Some(TreatmentKind::Surgery),
                _ => None,
            })
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for TreatmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name_zh())
    }
}

/// Maps procedure codes to treatment kinds; a code not in the map has the `unlisted` kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcedureClassifier {
    kinds: FxHashMap<String, TreatmentKind>,
    unlisted: TreatmentKind,
}

impl Default for ProcedureClassifier {
    /// No table: every procedure is 相关手术.
    fn default() -> ProcedureClassifier {
        ProcedureClassifier {
            kinds: FxHashMap::default(),
            unlisted: TreatmentKind::Surgery,
        }
    }
}

impl ProcedureClassifier {
    pub fn new(kinds: FxHashMap<String, TreatmentKind>, unlisted: TreatmentKind) -> ProcedureClassifier {
        ProcedureClassifier { kinds, unlisted }
    }

    /// Adds or replaces the kind of one code; returns the kind it had.
    pub fn insert(&mut self, code: &str, kind: TreatmentKind) -> Option<TreatmentKind> {
        self.kinds.insert(code.trim().to_owned(), kind)
    }

    /// The treatment kind of a case: that of its main (first) procedure, 保守治疗 with none.
    pub fn kind_of<S: AsRef<str>>(&self, procedures: &[S]) -> TreatmentKind {
        match procedures.first() {
            None => TreatmentKind::Conservative,
            Some(main) => self.kinds.get(main.as_ref().trim()).copied().unwrap_or(self.unlisted),
        }
    }
}

/// Core (核心病种) or comprehensive (综合病种).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKind {
    Core,
    Comprehensive,
}

impl GroupKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            GroupKind::Core => "核心病种",
            GroupKind::Comprehensive => "综合病种",
        }
    }

    /// `core` or `comprehensive`, as in files.
    pub fn code(self) -> &'static str {
        match self {
            GroupKind::Core => "core",
            GroupKind::Comprehensive => "comprehensive",
        }
    }

    pub fn parse(text: &str) -> Option<GroupKind> {
        match text.trim() {
            "core" | "核心病种" => Some(GroupKind::Core),
            "comprehensive" | "综合病种" => Some(GroupKind::Comprehensive),
            _ => None,
        }
    }
}

/// One group of the catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DipGroup {
    /// `I21.0` (core, conservative), `I21.0:36.0601+36.0602` (core with procedures),
    /// `I21:综合:相关手术` (comprehensive). See [`core_code`] and [`comprehensive_code`].
    pub code: String,
    pub kind: GroupKind,
    /// The 亚目 (core) or 类目 (comprehensive).
    pub diagnosis: String,
    /// The procedure combination, sorted (core only).
    pub procedures: Vec<String>,
    /// The treatment kind (comprehensive only).
    pub treatment: Option<TreatmentKind>,
    /// Cases per catalog year, oldest first (empty for a catalog read back from a file that
    /// does not carry them).
    pub year_case_counts: Vec<u64>,
    /// Average cost per catalog year, rounded half up to the fen; `None` for a year without cases.
    pub year_average_costs: Vec<Option<Money>>,
    /// `m_i`: the weighted average cost.
    pub weighted_average_cost: Money,
    pub score: Score,
    /// Average cost per hospital level (一级, 二级, 三级) in the newest catalog year.
    pub level_average_costs: [Option<Money>; 3],
}

impl DipGroup {
    /// Cases over all catalog years.
    pub fn case_count(&self) -> u64 {
        self.year_case_counts.iter().sum()
    }

    /// The standard cost outliers are measured against at a hospital of `level`: the group's
    /// average at that level in the newest catalog year, else its weighted average.
    pub fn standard_cost(&self, level: HospitalLevel) -> Money {
        self.level_average_costs[level_index(level)].unwrap_or(self.weighted_average_cost)
    }
}

/// Figures of the region as a whole from a build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildSummary {
    pub years: Vec<i32>,
    pub year_weights: Vec<u32>,
    pub year_case_counts: Vec<u64>,
    pub year_total_costs: Vec<Money>,
    /// `M`: the weighted average cost of all cases.
    pub overall_average_cost: Money,
    /// 预算点值; `None` if every score is zero.
    pub budget_point_value: Option<PointValue>,
    pub core_group_count: usize,
    pub comprehensive_group_count: usize,
    /// Cases folded into comprehensive groups.
    pub comprehensive_case_count: u64,
}

/// A DIP catalog: groups and the indexes that place a case.
#[derive(Clone, Debug)]
pub struct Catalog {
    groups: Vec<DipGroup>,
    index: FxHashMap<String, usize>,
    summary: Option<BuildSummary>,
}

/// Where a case falls in a catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grouping {
    /// Index of a core group: diagnosis 亚目 and procedure set match exactly.
    Core(usize),
    /// Index of the comprehensive group of the diagnosis 类目 and treatment kind.
    Comprehensive(usize),
    Unmatched(Unmatched),
}

/// Why a case is in no group; such a case is paid by item (按项目付费).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmatched {
    /// The principal diagnosis is not an ICD-10 code shape (letter, two digits, …).
    BadDiagnosis(String),
    /// A procedure code is empty, too long or holds a separator.
    BadProcedure(String),
    TooManyProcedures(usize),
    /// Neither a core group nor a comprehensive group for the 类目 and treatment kind.
    NoGroup {
        category: String,
        treatment: TreatmentKind,
    },
}

impl Unmatched {
    pub fn describe(&self) -> String {
        match self {
            Unmatched::BadDiagnosis(code) => format!("主要诊断“{code}”不是ICD-10编码，无法入组"),
            Unmatched::BadProcedure(code) => format!("手术操作编码“{code}”不合法，无法入组"),
            Unmatched::TooManyProcedures(n) => {
                format!("手术操作{n}个，超过上限{PROCEDURES_PER_CASE_MAX}个，无法入组")
            }
            Unmatched::NoGroup { category, treatment } => {
                format!("无匹配的核心病种，且目录中无类目{category}的{treatment}综合病种，无法入组(按项目付费)")
            }
        }
    }
}

/// The code of a core group: the 亚目, then `:` and the procedures joined by `+` if any.
pub fn core_code<S: AsRef<str>>(subcategory: &str, procedures: &[S]) -> String {
    let mut code = String::with_capacity(subcategory.len() + 16 * procedures.len());
    push_core_key(&mut code, subcategory, procedures.iter().map(AsRef::as_ref));
    code
}

/// The code of a comprehensive group: `类目:综合:治疗方式`.
pub fn comprehensive_code(category: &str, treatment: TreatmentKind) -> String {
    format!("{category}:综合:{}", treatment.name_zh())
}

fn push_core_key<'a>(out: &mut String, subcategory: &str, sorted: impl Iterator<Item = &'a str>) {
    out.push_str(subcategory);
    for (i, p) in sorted.enumerate() {
        out.push(if i == 0 { ':' } else { '+' });
        out.push_str(p);
    }
}

/// The 类目 and 亚目 of a principal diagnosis, or `None` if it is not an ICD-10 shape: an ASCII
/// letter, two digits, then at most [`CODE_LEN_MAX`] printable ASCII characters in all.
pub fn diagnosis_keys(code: &str) -> Option<(&str, &str)> {
    let code = code.trim();
    let b = code.as_bytes();
    if b.len() < 3 || b.len() > CODE_LEN_MAX || !b[0].is_ascii_alphabetic() {
        return None;
    }
    if !b[1].is_ascii_digit() || !b[2].is_ascii_digit() || !code_chars_ok(b) {
        return None;
    }
    Some((&code[..3], &code[..b.len().min(5)]))
}

fn code_chars_ok(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| c.is_ascii_graphic() && c != b':' && c != b'+' && c != b'|' && c != b',')
}

/// A procedure code is 1 to [`CODE_LEN_MAX`] printable ASCII characters without `:`, `+`, `|`, `,`.
pub fn procedure_ok(code: &str) -> bool {
    let b = code.trim().as_bytes();
    !b.is_empty() && b.len() <= CODE_LEN_MAX && code_chars_ok(b)
}

fn level_index(level: HospitalLevel) -> usize {
    usize::from(level.number()) - 1
}

/// Cases and cost sums per year, and per hospital level in the newest year.
#[derive(Clone, Copy, Default)]
struct Cells {
    years: [Cell; crate::params::YEARS_MAX],
    newest_levels: [Cell; 3],
}

#[derive(Clone, Copy, Default)]
struct Cell {
    count: u64,
    cost_fen: i64,
}

impl Cell {
    fn add(&mut self, count: u64, cost_fen: i64) {
        self.count += count;
        self.cost_fen += cost_fen;
    }
}

impl Cells {
    fn add_case(&mut self, year: usize, newest_level: Option<usize>, cost_fen: i64) {
        self.years[year].add(1, cost_fen);
        if let Some(level) = newest_level {
            self.newest_levels[level].add(1, cost_fen);
        }
    }

    fn add(&mut self, other: &Cells) {
        for (x, y) in self
            .years
            .iter_mut()
            .chain(&mut self.newest_levels)
            .zip(other.years.iter().chain(&other.newest_levels))
        {
            x.add(y.count, y.cost_fen);
        }
    }

    fn count(&self) -> u64 {
        self.years.iter().map(|c| c.count).sum()
    }
}

/// What one core key has gathered. Cases of one procedure set usually share a treatment kind (that
/// of the main procedure); only when a second kind appears are the cases also kept per kind, for
/// the fold into comprehensive groups should the key not become a core group.
struct KeyCells {
    cells: Cells,
    /// The kind of the key's first case.
    kind: TreatmentKind,
    /// 1 + the index of the per-kind split in `splits`, or 0 while all cases have `kind`.
    split: u32,
}

/// `sum ÷ count` rounded half up to the fen; `None` without cases.
fn average(cell: Cell) -> Option<Money> {
    (cell.count > 0).then(|| {
        let fen = SCORE_ROUNDING.div(i128::from(cell.cost_fen), i128::from(cell.count));
        Money::from_fen(i64::try_from(fen).expect("an average is at most the largest cost"))
    })
}

/// `Σ w_k·y_k ÷ Σ w_k` over the years with an average, rounded half up to the fen.
fn weighted_average(averages: &[Option<Money>], weights: &[u32]) -> Option<Money> {
    let (mut numerator, mut denominator) = (0_i128, 0_i128);
    for (avg, &w) in averages.iter().zip(weights) {
        if let Some(a) = avg {
            numerator += i128::from(w) * i128::from(a.fen());
            denominator += i128::from(w);
        }
    }
    (denominator > 0).then(|| {
        let fen = SCORE_ROUNDING.div(numerator, denominator);
        Money::from_fen(i64::try_from(fen).expect("a weighted average is at most the largest average"))
    })
}

/// `m ÷ M × scale` rounded half up to 4 decimals.
fn score_of(m: Money, overall: Money, scale: u32) -> Result<Score, DipError> {
    let numerator = i128::from(m.fen()) * i128::from(scale) * i128::from(SCORE_SCALE);
    let value = SCORE_ROUNDING.div(numerator, i128::from(overall.fen()));
    i64::try_from(value)
        .map(Score::from_ten_thousandths)
        .map_err(|_| DipError::OutOfRange("病种分值".into()))
}

impl Catalog {
    /// Builds the catalog from the historical cases of `years` (oldest first, one per weight in
    /// `params.year_weights`). Every case is checked; the first bad one is the error.
    pub fn build(
        cases: &[HistoricalCase],
        years: &[i32],
        params: &DipParams,
        classifier: &ProcedureClassifier,
    ) -> Result<Catalog, DipError> {
        params.validate()?;
        if years.len() != params.year_weights.len() {
            return Err(DipError::Params(format!(
                "年度数{}与 year_weights 的权重数{}不一致",
                years.len(),
                params.year_weights.len()
            )));
        }
        if years.windows(2).any(|w| w[0] >= w[1]) {
            return Err(DipError::Params("年度应从早到晚排列且不重复".into()));
        }
        if cases.is_empty() {
            return Err(DipError::NoCases);
        }
        if cases.len() > CASES_MAX {
            return Err(DipError::TooManyCases {
                count: cases.len(),
                max: CASES_MAX,
            });
        }

        // One pass: core key (亚目 × procedure set) → cases and costs per year and level.
        let newest = years.len() - 1;
        let mut index: FxHashMap<Box<str>, u32> = FxHashMap::default();
        index.reserve(cases.len().min(1 << 22) / 4);
        let mut keys: Vec<KeyCells> = Vec::new();
        let mut splits: Vec<[Cells; 4]> = Vec::new();
        let mut region = Cells::default();
        let mut key = String::with_capacity(64);
        let mut sorted: Vec<&str> = Vec::with_capacity(PROCEDURES_PER_CASE_MAX);
        for case in cases {
            let bad = |reason: String| DipError::BadCase {
                case_id: case.case_id.clone(),
                reason,
            };
            let year = years
                .iter()
                .position(|&y| y == case.year)
                .ok_or_else(|| bad(format!("年度{}不在目录年度{years:?}中", case.year)))?;
            let cost = case.total_cost.fen();
            if cost <= 0 || cost > CASE_COST_FEN_MAX {
                return Err(bad(format!(
                    "医疗总费用{}应大于0且不超过{}",
                    case.total_cost,
                    Money::from_fen(CASE_COST_FEN_MAX)
                )));
            }
            let (_, subcategory) = diagnosis_keys(&case.principal_diagnosis)
                .ok_or_else(|| bad(Unmatched::BadDiagnosis(case.principal_diagnosis.clone()).describe()))?;
            if case.procedures.len() > PROCEDURES_PER_CASE_MAX {
                return Err(bad(Unmatched::TooManyProcedures(case.procedures.len()).describe()));
            }
            sorted.clear();
            for p in &case.procedures {
                if !procedure_ok(p) {
                    return Err(bad(Unmatched::BadProcedure(p.clone()).describe()));
                }
                sorted.push(p.trim());
            }
            sorted.sort_unstable();
            sorted.dedup();
            let kind = classifier.kind_of(&case.procedures);
            key.clear();
            push_core_key(&mut key, subcategory, sorted.iter().copied());

            let i = match index.get(key.as_str()) {
                Some(&i) => i as usize,
                None => {
                    // At most CASES_MAX keys, far below u32::MAX.
                    index.insert(key.as_str().into(), keys.len() as u32);
                    keys.push(KeyCells {
                        cells: Cells::default(),
                        kind,
                        split: 0,
                    });
                    keys.len() - 1
                }
            };
            let entry = &mut keys[i];
            if entry.split == 0 && entry.kind != kind {
                let mut split = [Cells::default(); 4];
                split[entry.kind.index()] = entry.cells;
                splits.push(split);
                entry.split = splits.len() as u32;
            }
            let newest_level = (year == newest).then(|| level_index(case.hospital_level));
            entry.cells.add_case(year, newest_level, cost);
            if entry.split != 0 {
                splits[entry.split as usize - 1][kind.index()].add_case(year, newest_level, cost);
            }
            region.add_case(year, newest_level, cost);
        }

        // Core keys with enough cases; the others fold by 类目 × treatment kind.
        let threshold = u64::from(params.core_case_count_min);
        let mut core: Vec<(&str, &Cells)> = Vec::new();
        let mut comprehensive: FxHashMap<(&str, TreatmentKind), Cells> = FxHashMap::default();
        for (core_key, &i) in &index {
            let entry = &keys[i as usize];
            if entry.cells.count() >= threshold {
                core.push((core_key, &entry.cells));
                continue;
            }
            let category = &core_key[..3];
            if entry.split == 0 {
                comprehensive
                    .entry((category, entry.kind))
                    .or_default()
                    .add(&entry.cells);
            } else {
                for kind in TreatmentKind::ALL {
                    let cells = &splits[entry.split as usize - 1][kind.index()];
                    if cells.count() > 0 {
                        comprehensive.entry((category, kind)).or_default().add(cells);
                    }
                }
            }
        }

        let n_years = years.len();
        let weights = &params.year_weights;
        let region_averages: Vec<Option<Money>> = (0..n_years).map(|y| average(region.years[y])).collect();
        let overall = weighted_average(&region_averages, weights).ok_or(DipError::NoCases)?;
        let make = |code: String,
                    kind: GroupKind,
                    diagnosis: &str,
                    procedures: Vec<String>,
                    treatment: Option<TreatmentKind>,
                    cells: &Cells|
         -> Result<DipGroup, DipError> {
            let year_average_costs: Vec<Option<Money>> = (0..n_years).map(|y| average(cells.years[y])).collect();
            let weighted_average_cost =
                weighted_average(&year_average_costs, weights).expect("a group has at least one case");
            Ok(DipGroup {
                code,
                kind,
                diagnosis: diagnosis.to_owned(),
                procedures,
                treatment,
                year_case_counts: (0..n_years).map(|y| cells.years[y].count).collect(),
                year_average_costs,
                weighted_average_cost,
                score: score_of(weighted_average_cost, overall, params.score_scale)?,
                level_average_costs: cells.newest_levels.map(average),
            })
        };

        let mut groups = Vec::with_capacity(core.len() + comprehensive.len());
        let mut comprehensive_case_count = 0;
        for (core_key, cells) in &core {
            let (subcategory, procedures) = match core_key.split_once(':') {
                Some((d, p)) => (d, p.split('+').map(str::to_owned).collect()),
                None => (*core_key, Vec::new()),
            };
            groups.push(make(
                (*core_key).to_owned(),
                GroupKind::Core,
                subcategory,
                procedures,
                None,
                cells,
            )?);
        }
        for ((category, kind), cells) in &comprehensive {
            comprehensive_case_count += cells.count();
            groups.push(make(
                comprehensive_code(category, *kind),
                GroupKind::Comprehensive,
                category,
                Vec::new(),
                Some(*kind),
                cells,
            )?);
        }
        groups.sort_unstable_by(|a, b| {
            (a.kind, &a.diagnosis, a.treatment, &a.code).cmp(&(b.kind, &b.diagnosis, b.treatment, &b.code))
        });

        // 预算点值 = Σ w_k·T_k ÷ Σ_i score_i·Σ_k w_k·n_ik (the ÷Σw of both sides cancels).
        let mut weighted_total_fen: i128 = 0;
        for (y, &w) in weights.iter().enumerate() {
            weighted_total_fen += i128::from(w) * i128::from(region.years[y].cost_fen);
        }
        let mut weighted_points: i128 = 0;
        for g in &groups {
            let weighted_cases: i128 = g
                .year_case_counts
                .iter()
                .zip(weights)
                .map(|(&n, &w)| i128::from(n) * i128::from(w))
                .sum();
            weighted_points += i128::from(g.score.ten_thousandths()) * weighted_cases;
        }
        let budget_point_value = if weighted_points == 0 {
            None
        } else {
            // fen ÷ 100 = 元; points ÷ 10⁴; point value × 10⁶ → × 10⁸ in all.
            let value = POINT_VALUE_ROUNDING.div(weighted_total_fen * 100_000_000, weighted_points);
            Some(PointValue::from_millionths(
                i64::try_from(value).map_err(|_| DipError::OutOfRange("预算点值".into()))?,
            ))
        };

        let summary = BuildSummary {
            years: years.to_vec(),
            year_weights: weights.clone(),
            year_case_counts: (0..n_years).map(|y| region.years[y].count).collect(),
            year_total_costs: (0..n_years)
                .map(|y| Money::from_fen(region.years[y].cost_fen))
                .collect(),
            overall_average_cost: overall,
            budget_point_value,
            core_group_count: core.len(),
            comprehensive_group_count: comprehensive.len(),
            comprehensive_case_count,
        };
        let mut catalog = Catalog::from_groups(groups)?;
        catalog.summary = Some(summary);
        Ok(catalog)
    }

    /// A catalog from its groups (e.g. read back from a file). Refuses two groups with the same
    /// key, a code that does not match the group's fields, or a zero standard cost.
    pub fn from_groups(groups: Vec<DipGroup>) -> Result<Catalog, DipError> {
        let mut index = FxHashMap::default();
        index.reserve(groups.len());
        for (i, g) in groups.iter().enumerate() {
            let bad = |reason: String| DipError::BadGroup {
                code: g.code.clone(),
                reason,
            };
            let expected = match (g.kind, g.treatment) {
                (GroupKind::Core, None) => {
                    let (_, sub) = diagnosis_keys(&g.diagnosis).ok_or_else(|| bad("诊断编码不合法".into()))?;
                    if sub != g.diagnosis {
                        return Err(bad("核心病种的诊断应为亚目(前5位)".into()));
                    }
                    if g.procedures.len() > PROCEDURES_PER_CASE_MAX || !g.procedures.iter().all(|p| procedure_ok(p)) {
                        return Err(bad("手术操作组合不合法".into()));
                    }
                    if g.procedures.windows(2).any(|w| w[0] >= w[1]) {
                        return Err(bad("手术操作组合应升序且不重复".into()));
                    }
                    core_code(&g.diagnosis, &g.procedures)
                }
                (GroupKind::Comprehensive, Some(kind)) => {
                    if g.diagnosis.len() != 3 || diagnosis_keys(&g.diagnosis).is_none() || !g.procedures.is_empty() {
                        return Err(bad("综合病种应为3位类目且无手术操作组合".into()));
                    }
                    comprehensive_code(&g.diagnosis, kind)
                }
                _ => return Err(bad("核心病种不带治疗方式，综合病种必须带治疗方式".into())),
            };
            if expected != g.code {
                return Err(bad(format!("病种编码应为“{expected}”")));
            }
            if g.weighted_average_cost.fen() <= 0 || g.level_average_costs.iter().flatten().any(|c| c.fen() <= 0) {
                return Err(bad("次均费用应大于0".into()));
            }
            if index.insert(expected, i).is_some() {
                return Err(bad("病种编码重复".into()));
            }
        }
        Ok(Catalog {
            groups,
            index,
            summary: None,
        })
    }

    pub fn groups(&self) -> &[DipGroup] {
        &self.groups
    }

    pub fn group_at(&self, index: usize) -> &DipGroup {
        &self.groups[index]
    }

    /// The region's figures, for a catalog built here (not one read back from a file).
    pub fn summary(&self) -> Option<&BuildSummary> {
        self.summary.as_ref()
    }

    pub fn by_code(&self, code: &str) -> Option<&DipGroup> {
        self.index.get(code).map(|&i| &self.groups[i])
    }

    /// Places a case: the core group of its diagnosis 亚目 × exact procedure set first, else the
    /// comprehensive group of its 类目 × treatment kind, else unmatched with the reason.
    pub fn group<S: AsRef<str>>(
        &self,
        principal_diagnosis: &str,
        procedures: &[S],
        classifier: &ProcedureClassifier,
    ) -> Grouping {
        let Some((category, subcategory)) = diagnosis_keys(principal_diagnosis) else {
            return Grouping::Unmatched(Unmatched::BadDiagnosis(principal_diagnosis.to_owned()));
        };
        if procedures.len() > PROCEDURES_PER_CASE_MAX {
            return Grouping::Unmatched(Unmatched::TooManyProcedures(procedures.len()));
        }
        let mut sorted: Vec<&str> = Vec::with_capacity(procedures.len());
        for p in procedures {
            if !procedure_ok(p.as_ref()) {
                return Grouping::Unmatched(Unmatched::BadProcedure(p.as_ref().to_owned()));
            }
            sorted.push(p.as_ref().trim());
        }
        sorted.sort_unstable();
        sorted.dedup();
        if let Some(&i) = self.index.get(&core_code(subcategory, &sorted)) {
            return Grouping::Core(i);
        }
        let treatment = classifier.kind_of(procedures);
        match self.index.get(&comprehensive_code(category, treatment)) {
            Some(&i) => Grouping::Comprehensive(i),
            None => Grouping::Unmatched(Unmatched::NoGroup {
                category: category.to_owned(),
                treatment,
            }),
        }
    }
}
