//! The national 两库 knowledge points (国家医保智能监管知识库), batches 1–8, read from the sheets
//! NHSA published (one CSV per sheet, named as published). A drug library comes as two sheets:
//! Sheet1 lists the knowledge points (a drug's common name and its limit), Sheet2 expands each
//! point into the national drug codes it covers. Item libraries are one sheet keyed by the
//! 15-character national service-item code.
//!
//! Reading is all or nothing: every malformed row is reported with its file and line, and a
//! knowledge base is returned only when there is none.

use std::fmt;

use rustc_hash::FxHashMap;
use yibao_codes::{HospitalLevel, Sex};
use yibao_money::Quantity;

/// The most files one import reads (the eight batches have 20 sheets).
pub const FILES_MAX: usize = 64;
/// The most data rows one file may hold (the largest sheet has 6,472).
pub const FILE_ROWS_MAX: usize = 200_000;
/// A national drug code has 20 (中成药) or 23 (西药) characters, an item code 15; a longer code
/// is a broken row, not a code.
pub const CODE_LEN_MAX: usize = 32;
/// Names and remarks longer than this are cut (the longest published remark is about 300).
pub const TEXT_CHARS_MAX: usize = 1_000;

/// The age group an item is limited to (项目规则库 限定年龄对象).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AgeGroup {
    /// 新生儿.
    Neonate,
    /// 婴幼儿.
    Infant,
    /// 儿童.
    Child,
}

impl AgeGroup {
    pub fn name_zh(self) -> &'static str {
        match self {
            AgeGroup::Neonate => "新生儿",
            AgeGroup::Infant => "婴幼儿",
            AgeGroup::Child => "儿童",
        }
    }
}

/// The only scheme a drug may be paid by (第三批 限定保险类型).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchemeOnly {
    /// 工伤保险.
    WorkInjury,
    /// 生育保险.
    Maternity,
}

impl SchemeOnly {
    pub fn name_zh(self) -> &'static str {
        match self {
            SchemeOnly::WorkInjury => "工伤保险",
            SchemeOnly::Maternity => "生育保险",
        }
    }
}

/// The unit a frequency limit counts in (第八批-1: 日/天 or 小时).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrequencyUnit {
    Day,
    Hour,
}

impl FrequencyUnit {
    pub fn name_zh(self) -> &'static str {
        match self {
            FrequencyUnit::Day => "日",
            FrequencyUnit::Hour => "小时",
        }
    }
}

/// How close together a master and a slave item must be charged to be a duplicate (第七批 频度).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DuplicateWindow {
    /// 单日: the same calendar day.
    SameDay,
    /// 单次就诊: anywhere in the same visit.
    SameVisit,
    /// 6小时: within six hours of each other.
    Hours(u8),
    /// 同一小时: within the same clock hour.
    SameHour,
}

impl DuplicateWindow {
    pub fn name_zh(self) -> String {
        match self {
            DuplicateWindow::SameDay => "单日".into(),
            DuplicateWindow::SameVisit => "单次就诊".into(),
            DuplicateWindow::Hours(h) => format!("{h}小时"),
            DuplicateWindow::SameHour => "同一小时".into(),
        }
    }
}

/// What one knowledge point says of the codes it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Constraint {
    /// 药品限定性别.
    DrugSex(Sex),
    /// 项目限定性别.
    ItemSex(Sex),
    /// 药品限定年龄对象: children's drugs (儿童).
    DrugChild,
    /// 项目限定年龄对象.
    ItemAge(AgeGroup),
    /// 第八批-2: not paid above the legal working age.
    ItemWorkingAge,
    /// 限定保险类型.
    DrugScheme(SchemeOnly),
    /// 限定就医方式 住院: inpatient only.
    DrugInpatientOnly,
    /// 限定机构等级: this level or above.
    DrugLevel(HospitalLevel),
    /// 限定支付疗程: at most this many paid days.
    DrugCourse { days_max: u16 },
    /// 第八批-3 限定疗程: at most `days_max` days from the first, and (when given) at least
    /// `interval_days_min` days between two charges.
    ItemCourse {
        days_max: u16,
        interval_days_min: Option<u16>,
    },
    /// 第八批-4 限定周期: at most `count_max` charges in any `cycle_days` days.
    ItemCycle { count_max: u16, cycle_days: u16 },
    /// 第八批-1 限定频次: at most `cap` per calendar day, counted in `unit`.
    Frequency { cap: Quantity, unit: FrequencyUnit },
    /// 第二批 限定主次操作: operations of one group through the same incision.
    SameIncision { group: Box<str> },
}

/// Where a knowledge point was read from, for the evidence of a finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Index into [`KnowledgeBase::files`].
    pub file: u16,
    /// The 1-based line of the point's row.
    pub line: u32,
    /// The drug's common name or the item's name.
    pub name: Box<str>,
    /// The published remark (药品说明, 项目说明, 备注).
    pub remark: Box<str>,
}

/// One knowledge point as it applies to a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Point {
    pub constraint: Constraint,
    pub source: Source,
}

/// 第七批: a slave item whose price the master item already includes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicatePair {
    pub window: DuplicateWindow,
    pub master_code: Box<str>,
    pub master_name: Box<str>,
    pub slave_code: Box<str>,
    pub slave_name: Box<str>,
    pub source: Source,
}

/// How many rows of each file were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileCount {
    pub file: String,
    /// The batch (第N批), 1–8.
    pub batch: u8,
    /// What the file is (e.g. `药品规则库(限定性别对象) 编码`).
    pub library: &'static str,
    /// Data rows: knowledge points, codes or pairs.
    pub rows: usize,
    /// Whether the rows are codes (the count NHSA announces per batch) rather than points.
    pub rows_are_codes: bool,
}

/// A malformed file or row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnowledgeError {
    pub file: String,
    /// 1-based; 0 for the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for KnowledgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// The knowledge base: every point by the code it covers, and the duplicate-charge pairs.
#[derive(Clone, Debug, Default)]
pub struct KnowledgeBase {
    points: FxHashMap<Box<str>, Vec<Point>>,
    pairs: Vec<DuplicatePair>,
    /// Pair indices by slave code, then by master code.
    pairs_by_slave: FxHashMap<Box<str>, Vec<u32>>,
    pairs_by_master: FxHashMap<Box<str>, Vec<u32>>,
    pub files: Vec<FileCount>,
}

impl KnowledgeBase {
    /// The points that cover `code`.
    pub fn points(&self, code: &str) -> &[Point] {
        self.points.get(code).map_or(&[], Vec::as_slice)
    }

    /// The duplicate pairs in which `code` is the slave item.
    pub fn pairs_with_slave(&self, code: &str) -> impl Iterator<Item = &DuplicatePair> {
        self.pairs_by_slave
            .get(code)
            .into_iter()
            .flatten()
            .map(|&i| &self.pairs[i as usize])
    }

    /// Whether `code` is the master or the slave item of some pair.
    pub fn in_pair(&self, code: &str) -> bool {
        self.pairs_by_master.contains_key(code) || self.pairs_by_slave.contains_key(code)
    }

    /// Whether `code` is the master item of some pair.
    pub fn is_master(&self, code: &str) -> bool {
        self.pairs_by_master.contains_key(code)
    }

    pub fn pairs(&self) -> &[DuplicatePair] {
        &self.pairs
    }

    /// How many codes carry at least one point.
    pub fn code_count(&self) -> usize {
        self.points.len()
    }

    /// The rows read from batch `batch` that are codes (batch 1: 11,290).
    pub fn code_rows_in_batch(&self, batch: u8) -> usize {
        self.files
            .iter()
            .filter(|f| f.batch == batch && f.rows_are_codes)
            .map(|f| f.rows)
            .sum()
    }

    /// The file a source names.
    pub fn file_name(&self, source: &Source) -> &str {
        self.files.get(usize::from(source.file)).map_or("", |f| f.file.as_str())
    }

    /// Reads the published sheets. `files` are (file name, text) pairs; names are matched to the
    /// libraries by their batch and library words, e.g. `【第一批】药品规则库(限定性别对象)-Sheet2.csv`.
    /// A file that matches no library is an error, as is a library with only one of its sheets.
    pub fn read(files: &[(String, String)]) -> Result<KnowledgeBase, Vec<KnowledgeError>> {
        let mut errors = Vec::new();
        if files.len() > FILES_MAX {
            return Err(vec![KnowledgeError {
                file: String::new(),
                line: 0,
                message: format!("知识库文件{}个,超过上限{FILES_MAX}个", files.len()),
            }]);
        }
        let mut kb = KnowledgeBase::default();
        // Sheet1 of each drug library, kept until its Sheet2 is read.
        let mut drug_points: FxHashMap<&'static str, (u16, NamedPoints)> = FxHashMap::default();
        let mut drug_codes: Vec<(&'static Library, u16, &str, &str)> = Vec::new();
        for (name, text) in files {
            let Some(library) = library_of(name) else {
                errors.push(KnowledgeError {
                    file: name.clone(),
                    line: 0,
                    message: "不是已知的两库规则库文件(文件名须含批次与规则库名称,如【第一批】药品规则库(限定性别对象)-Sheet1.csv)"
                        .into(),
                });
                continue;
            };
            if kb
                .files
                .iter()
                .any(|f| f.batch == library.batch && f.library == library.label)
            {
                errors.push(KnowledgeError {
                    file: name.clone(),
                    line: 0,
                    message: format!("第{}批{}重复提供", library.batch, library.label),
                });
                continue;
            }
            let file_index = kb.files.len() as u16;
            kb.files.push(FileCount {
                file: name.clone(),
                batch: library.batch,
                library: library.label,
                rows: 0,
                rows_are_codes: library.rows_are_codes,
            });
            match library.sheet {
                Sheet::DrugPoints(family) => {
                    let rows = read_rows(name, text, &library.columns, &mut errors);
                    let mut points = Vec::with_capacity(rows.len());
                    for row in &rows {
                        match drug_constraint(family, row.cell(3)) {
                            Ok(constraint) => points.push((
                                Box::from(row.cell(0)),
                                Some(Point {
                                    constraint,
                                    source: Source {
                                        file: file_index,
                                        line: row.line as u32,
                                        name: text_cut(row.cell(0)),
                                        remark: text_cut(row.cell(1)),
                                    },
                                }),
                            )),
                            Err(message) => {
                                errors.push(row.error(name, library.columns[3], message));
                                // Its codes are left out without a further error each.
                                points.push((Box::from(row.cell(0)), None));
                            }
                        }
                    }
                    kb.files[usize::from(file_index)].rows = rows.len();
                    drug_points.insert(family.key(), (file_index, points));
                }
                Sheet::DrugCodes(_) => drug_codes.push((library, file_index, name, text)),
                Sheet::Items(kind) => {
                    let rows = read_rows(name, text, &library.columns, &mut errors);
                    kb.files[usize::from(file_index)].rows = rows.len();
                    for row in &rows {
                        if let Err(message) = kb.add_item_row(kind, row, file_index) {
                            errors.push(KnowledgeError {
                                file: name.clone(),
                                line: row.line,
                                message,
                            });
                        }
                    }
                }
            }
        }
        for (library, file_index, name, text) in drug_codes {
            let Sheet::DrugCodes(family) = library.sheet else {
                unreachable!("only code sheets are deferred");
            };
            let Some((_, points)) = drug_points.get(family.key()) else {
                errors.push(KnowledgeError {
                    file: name.to_owned(),
                    line: 0,
                    message: format!("缺少同批的知识点表(Sheet1): 第{}批{}", library.batch, family.label()),
                });
                continue;
            };
            let by_name: FxHashMap<&str, Option<&Point>> = points.iter().map(|(n, p)| (&**n, p.as_ref())).collect();
            let rows = read_rows(name, text, &library.columns, &mut errors);
            kb.files[usize::from(file_index)].rows = rows.len();
            for row in &rows {
                let drug = row.cell(0);
                let code = row.cell(2);
                let point = match by_name.get(drug) {
                    Some(Some(point)) => *point,
                    Some(None) => continue,
                    None => {
                        errors.push(row.error(name, "药品通用名", format!("药品“{drug}”不在知识点表(Sheet1)中")));
                        continue;
                    }
                };
                if let Err(message) = check_code(code, &[20, 23]) {
                    errors.push(row.error(name, library.columns[2], message));
                    continue;
                }
                kb.add_point(code, point.clone());
            }
        }
        for (family, (file_index, _)) in &drug_points {
            let has_codes = kb.files.iter().any(|f| {
                f.rows_are_codes && f.batch == kb.files[usize::from(*file_index)].batch && f.library.starts_with(family)
            });
            if !has_codes {
                errors.push(KnowledgeError {
                    file: kb.files[usize::from(*file_index)].file.clone(),
                    line: 0,
                    message: "缺少同批的药品编码表(Sheet2)".into(),
                });
            }
        }
        if errors.is_empty() {
            Ok(kb)
        } else {
            Err(errors)
        }
    }

    fn add_point(&mut self, code: &str, point: Point) {
        let points = self.points.entry(Box::from(code)).or_default();
        if !points.contains(&point) {
            points.push(point);
        }
    }

    fn add_item_row(&mut self, kind: ItemSheet, row: &Row, file: u16) -> Result<(), String> {
        let source = |name: &str, remark: &str| Source {
            file,
            line: row.line as u32,
            name: text_cut(name),
            remark: text_cut(remark),
        };
        let (code, point) = match kind {
            ItemSheet::Sex => {
                // 项目名称, 项目说明, 国标代码, 限定类型, 限定性别
                let sex = sex_of(row.cell(4)).map_err(|m| format!("限定性别: {m}"))?;
                (
                    row.cell(2),
                    Point {
                        constraint: Constraint::ItemSex(sex),
                        source: source(row.cell(0), row.cell(1)),
                    },
                )
            }
            ItemSheet::Age => {
                // 项目名称, 国标代码, 限定类型, 限定对象
                let group = match row.cell(3) {
                    "新生儿" => AgeGroup::Neonate,
                    "婴幼儿" => AgeGroup::Infant,
                    "儿童" => AgeGroup::Child,
                    other => return Err(format!("限定对象: 应为新生儿、婴幼儿或儿童,而非“{other}”")),
                };
                (
                    row.cell(1),
                    Point {
                        constraint: Constraint::ItemAge(group),
                        source: source(row.cell(0), ""),
                    },
                )
            }
            ItemSheet::SameIncision => {
                // 项目名称, 项目说明, 国标代码, 限定类型, 限定值域
                let group = row.cell(4);
                if group.is_empty() {
                    return Err("限定值域: 手术组不能为空".into());
                }
                (
                    row.cell(2),
                    Point {
                        constraint: Constraint::SameIncision {
                            group: Box::from(group),
                        },
                        source: source(row.cell(0), row.cell(1)),
                    },
                )
            }
            ItemSheet::Duplicate => {
                // 序号, 频度, 主项名称, 主项编码, 从项名称, 从项编码, 备注
                let window = match row.cell(1) {
                    "单日" => DuplicateWindow::SameDay,
                    "单次就诊" => DuplicateWindow::SameVisit,
                    "同一小时" => DuplicateWindow::SameHour,
                    other => match other.strip_suffix("小时").and_then(|h| h.parse::<u8>().ok()) {
                        Some(h) if (1..=24).contains(&h) => DuplicateWindow::Hours(h),
                        _ => return Err(format!("频度: 应为单日、单次就诊、同一小时或N小时,而非“{other}”")),
                    },
                };
                let master = row.cell(3);
                let slave = row.cell(5);
                check_code(master, &[15]).map_err(|m| format!("主项编码: {m}"))?;
                check_code(slave, &[15]).map_err(|m| format!("从项编码: {m}"))?;
                if master == slave {
                    return Err(format!("主项编码与从项编码相同({master})"));
                }
                let index = self.pairs.len() as u32;
                self.pairs.push(DuplicatePair {
                    window,
                    master_code: Box::from(master),
                    master_name: text_cut(row.cell(2)),
                    slave_code: Box::from(slave),
                    slave_name: text_cut(row.cell(4)),
                    source: source(row.cell(2), row.cell(6)),
                });
                self.pairs_by_slave.entry(Box::from(slave)).or_default().push(index);
                self.pairs_by_master.entry(Box::from(master)).or_default().push(index);
                return Ok(());
            }
            ItemSheet::Frequency => {
                // 序号, 项目名称, 限制数量, 数量单位, 项目编码
                let unit = match row.cell(3) {
                    "日" | "天" => FrequencyUnit::Day,
                    "小时" => FrequencyUnit::Hour,
                    other => return Err(format!("数量单位: 应为日、天或小时,而非“{other}”")),
                };
                let cap = row
                    .cell(2)
                    .parse::<u16>()
                    .ok()
                    .filter(|c| *c >= 1 && (unit == FrequencyUnit::Day || *c <= 24))
                    .ok_or_else(|| format!("限制数量: 应为正整数(小时至多24),而非“{}”", row.cell(2)))?;
                (
                    row.cell(4),
                    Point {
                        constraint: Constraint::Frequency {
                            cap: Quantity::whole(i64::from(cap)),
                            unit,
                        },
                        source: source(row.cell(1), ""),
                    },
                )
            }
            ItemSheet::WorkingAge => {
                // 序号, 项目名称, 备注, 项目代码
                (
                    row.cell(3),
                    Point {
                        constraint: Constraint::ItemWorkingAge,
                        source: source(row.cell(1), row.cell(2)),
                    },
                )
            }
            ItemSheet::Course => {
                // 序号, 项目名称, 备注, 项目代码
                let remark = row.cell(2);
                let (days_max, interval_days_min) = course_of(remark)
                    .ok_or_else(|| format!("备注: 未能读出支付天数(应含“不超过N天”或“不超过一年”),而是“{remark}”"))?;
                (
                    row.cell(3),
                    Point {
                        constraint: Constraint::ItemCourse {
                            days_max,
                            interval_days_min,
                        },
                        source: source(row.cell(1), remark),
                    },
                )
            }
            ItemSheet::Cycle => {
                // 序号, 项目名称, 频次上限, 疗程周期, 备注, 项目代码
                let count_max =
                    positive(row.cell(2)).ok_or_else(|| format!("频次上限: 应为正整数,而非“{}”", row.cell(2)))?;
                let cycle_days =
                    positive(row.cell(3)).ok_or_else(|| format!("疗程周期: 应为正整数天数,而非“{}”", row.cell(3)))?;
                (
                    row.cell(5),
                    Point {
                        constraint: Constraint::ItemCycle { count_max, cycle_days },
                        source: source(row.cell(1), row.cell(4)),
                    },
                )
            }
        };
        check_code(code, &[15]).map_err(|m| format!("项目编码: {m}"))?;
        self.add_point(code, point);
        Ok(())
    }
}

fn positive(text: &str) -> Option<u16> {
    text.parse::<u16>().ok().filter(|n| (1..=3660).contains(n))
}

/// Reads `总时间不超过90天，评定间隔时间不短于14天。`, `支付不超过30天。`, `支付不超过一年，每周最多支付一次。`.
fn course_of(remark: &str) -> Option<(u16, Option<u16>)> {
    let days_after = |text: &str, marker: &str| -> Option<u16> {
        let rest = &text[text.find(marker)? + marker.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with('天') {
            return digits.parse().ok().filter(|d| *d >= 1);
        }
        None
    };
    let days_max = match days_after(remark, "不超过") {
        Some(d) => d,
        None if remark.contains("不超过一年") => 365,
        None => return None,
    };
    let interval = days_after(remark, "不短于").or(remark.contains("每周最多支付一次").then_some(7));
    Some((days_max, interval))
}

fn sex_of(text: &str) -> Result<Sex, String> {
    match text {
        "男" => Ok(Sex::Male),
        "女" => Ok(Sex::Female),
        other => Err(format!("应为男或女,而非“{other}”")),
    }
}

fn check_code(code: &str, lengths: &[usize]) -> Result<(), String> {
    if code.is_empty() {
        return Err("编码不能为空".into());
    }
    if code.len() > CODE_LEN_MAX || !code.bytes().all(|b| b.is_ascii_alphanumeric()) || !lengths.contains(&code.len()) {
        let shown: String = code.chars().take(CODE_LEN_MAX).collect();
        let lengths: Vec<String> = lengths.iter().map(ToString::to_string).collect();
        return Err(format!("编码“{shown}”应为{}位字母或数字", lengths.join("或")));
    }
    Ok(())
}

fn text_cut(text: &str) -> Box<str> {
    text.chars().take(TEXT_CHARS_MAX).collect::<String>().into_boxed_str()
}

/// A drug library's points by the drug's common name (`None` for a malformed row).
type NamedPoints = Vec<(Box<str>, Option<Point>)>;

/// The drug libraries, each a Sheet1 of points and a Sheet2 of codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DrugFamily {
    Sex,
    Age,
    Scheme,
    Setting,
    Level,
    Course,
}

impl DrugFamily {
    fn key(self) -> &'static str {
        self.label()
    }

    fn label(self) -> &'static str {
        match self {
            DrugFamily::Sex => "药品规则库(限定性别对象)",
            DrugFamily::Age => "药品规则库(限定年龄对象)",
            DrugFamily::Scheme => "药品规则库(限定保险类型)",
            DrugFamily::Setting => "药品规则库(限定就医方式)",
            DrugFamily::Level => "药品规则库(限定机构等级)",
            DrugFamily::Course => "药品规则库(限定支付疗程)",
        }
    }
}

fn drug_constraint(family: DrugFamily, value: &str) -> Result<Constraint, String> {
    match family {
        DrugFamily::Sex => sex_of(value).map(Constraint::DrugSex),
        DrugFamily::Age => match value {
            "儿童" => Ok(Constraint::DrugChild),
            other => Err(format!("应为儿童,而非“{other}”")),
        },
        DrugFamily::Scheme => match value {
            "工伤" => Ok(Constraint::DrugScheme(SchemeOnly::WorkInjury)),
            "生育" => Ok(Constraint::DrugScheme(SchemeOnly::Maternity)),
            other => Err(format!("应为工伤或生育,而非“{other}”")),
        },
        DrugFamily::Setting => match value {
            "住院" => Ok(Constraint::DrugInpatientOnly),
            other => Err(format!("应为住院,而非“{other}”")),
        },
        DrugFamily::Level => match value {
            "二级" => Ok(Constraint::DrugLevel(HospitalLevel::Level2)),
            "三级" => Ok(Constraint::DrugLevel(HospitalLevel::Level3)),
            other => Err(format!("应为二级或三级,而非“{other}”")),
        },
        DrugFamily::Course => value
            .strip_suffix('天')
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|d| (1..=3660).contains(d))
            .map(|days_max| Constraint::DrugCourse { days_max })
            .ok_or_else(|| format!("应为“N天”,而非“{value}”")),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ItemSheet {
    Sex,
    Age,
    SameIncision,
    Duplicate,
    Frequency,
    WorkingAge,
    Course,
    Cycle,
}

#[derive(Clone, Copy, Debug)]
enum Sheet {
    DrugPoints(DrugFamily),
    DrugCodes(DrugFamily),
    Items(ItemSheet),
}

struct Library {
    batch: u8,
    /// Words the published file name contains (besides the batch).
    words: &'static [&'static str],
    label: &'static str,
    sheet: Sheet,
    /// The header, in order (names as published; `|` separates accepted spellings).
    columns: [&'static str; 7],
    rows_are_codes: bool,
}

const LIBRARIES: &[Library] = &[
    Library {
        batch: 1,
        words: &["药品规则库", "限定性别", "Sheet1"],
        label: "药品规则库(限定性别对象) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Sex),
        columns: ["药品通用名", "药品说明", "限定类型", "限定对象", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 1,
        words: &["药品规则库", "限定性别", "Sheet2"],
        label: "药品规则库(限定性别对象) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Sex),
        columns: ["药品通用名", "序号", "药品代码|国标代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 1,
        words: &["药品规则库", "限定年龄", "Sheet1"],
        label: "药品规则库(限定年龄对象) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Age),
        columns: ["药品通用名", "药品说明", "限定类型", "限定对象", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 1,
        words: &["药品规则库", "限定年龄", "Sheet2"],
        label: "药品规则库(限定年龄对象) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Age),
        columns: ["药品通用名", "序号", "国标代码|药品代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 1,
        words: &["项目规则库", "限定性别"],
        label: "项目规则库(限定性别对象)",
        sheet: Sheet::Items(ItemSheet::Sex),
        columns: ["项目名称", "项目说明", "国标代码", "限定类型", "限定性别", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 1,
        words: &["项目规则库", "限定年龄"],
        label: "项目规则库(限定年龄对象)",
        sheet: Sheet::Items(ItemSheet::Age),
        columns: ["项目名称", "国标代码", "限定类型", "限定对象", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 2,
        words: &["项目规则库", "限定主次操作"],
        label: "项目规则库(限定主次操作)",
        sheet: Sheet::Items(ItemSheet::SameIncision),
        columns: ["项目名称", "项目说明", "国标代码", "限定类型", "限定值域", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 3,
        words: &["药品规则库", "限定保险类型", "Sheet1"],
        label: "药品规则库(限定保险类型) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Scheme),
        columns: ["药品通用名", "药品说明", "限定类型", "限定对象", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 3,
        words: &["药品规则库", "限定保险类型", "Sheet2"],
        label: "药品规则库(限定保险类型) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Scheme),
        columns: ["药品通用名", "序号", "国标代码|药品代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 4,
        words: &["药品规则库", "限定就医方式", "Sheet1"],
        label: "药品规则库(限定就医方式) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Setting),
        columns: ["药品通用名", "药品说明", "限定类型", "限定值域", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 4,
        words: &["药品规则库", "限定就医方式", "Sheet2"],
        label: "药品规则库(限定就医方式) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Setting),
        columns: ["药品通用名", "序号", "国标代码|药品代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 5,
        words: &["药品规则库", "限定机构等级", "Sheet1"],
        label: "药品规则库(限定机构等级) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Level),
        columns: ["药品通用名", "药品说明", "限定类型", "限定值域", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 5,
        words: &["药品规则库", "限定机构等级", "Sheet2"],
        label: "药品规则库(限定机构等级) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Level),
        columns: ["药品通用名", "序号", "国标代码|药品代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 6,
        words: &["药品规则库", "限定支付疗程", "Sheet1"],
        label: "药品规则库(限定支付疗程) 知识点",
        sheet: Sheet::DrugPoints(DrugFamily::Course),
        columns: ["药品通用名", "药品说明", "限定类型", "限定值域", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 6,
        words: &["药品规则库", "限定支付疗程", "Sheet2"],
        label: "药品规则库(限定支付疗程) 编码",
        sheet: Sheet::DrugCodes(DrugFamily::Course),
        columns: ["药品通用名", "序号", "国标代码|药品代码", "限定类型", "", "", ""],
        rows_are_codes: true,
    },
    Library {
        batch: 7,
        words: &["项目规则库", "重复收费"],
        label: "项目规则库(重复收费)",
        sheet: Sheet::Items(ItemSheet::Duplicate),
        columns: ["序号", "频度", "主项名称", "主项编码", "从项名称", "从项编码", "备注"],
        rows_are_codes: false,
    },
    Library {
        batch: 8,
        words: &["第八批-1", "项目规则库", "限定频次"],
        label: "项目规则库(限定频次)",
        sheet: Sheet::Items(ItemSheet::Frequency),
        columns: ["序号", "项目名称", "限制数量", "数量单位", "项目编码", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 8,
        words: &["第八批-2", "项目规则库", "限定年龄"],
        label: "项目规则库(限定年龄)",
        sheet: Sheet::Items(ItemSheet::WorkingAge),
        columns: ["序号", "项目名称", "备注", "项目代码", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 8,
        words: &["第八批-3", "项目规则库", "限定疗程"],
        label: "项目规则库(限定疗程)",
        sheet: Sheet::Items(ItemSheet::Course),
        columns: ["序号", "项目名称", "备注", "项目代码", "", "", ""],
        rows_are_codes: false,
    },
    Library {
        batch: 8,
        words: &["第八批-4", "项目规则库", "限定周期"],
        label: "项目规则库(限定周期)",
        sheet: Sheet::Items(ItemSheet::Cycle),
        columns: ["序号", "项目名称", "频次上限", "疗程周期", "备注", "项目代码", ""],
        rows_are_codes: false,
    },
];

const BATCH_WORDS: [&str; 8] = [
    "第一批",
    "第二批",
    "第三批",
    "第四批",
    "第五批",
    "第六批",
    "第七批",
    "第八批",
];

/// The library a published file name names: its batch word (【第一批】) and library words.
fn library_of(name: &str) -> Option<&'static Library> {
    // Full-width and half-width brackets both occur in the published names.
    let name: String = name
        .chars()
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect();
    let batch = BATCH_WORDS.iter().position(|w| name.contains(w))? as u8 + 1;
    LIBRARIES
        .iter()
        .find(|l| l.batch == batch && l.words.iter().all(|w| name.contains(w)))
}

/// One data row with its 1-based line.
struct Row {
    line: usize,
    cells: Vec<String>,
}

impl Row {
    fn cell(&self, i: usize) -> &str {
        self.cells.get(i).map_or("", |c| c.trim())
    }

    fn error(&self, file: &str, column: &str, message: String) -> KnowledgeError {
        let column = column.split('|').next().unwrap_or(column);
        KnowledgeError {
            file: file.to_owned(),
            line: self.line,
            message: format!("{column}: {message}"),
        }
    }
}

/// Reads a sheet: checks its header against `columns` and returns the data rows, leaving out
/// empty rows and the trailing 合计/备注 rows the published sheets carry.
fn read_rows(file: &str, text: &str, columns: &[&str; 7], errors: &mut Vec<KnowledgeError>) -> Vec<Row> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut header_seen = false;
    // (byte offset, line) of the last record read.
    let mut line_at = (0usize, 1usize);
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                errors.push(KnowledgeError {
                    file: file.to_owned(),
                    line,
                    message: format!("CSV格式错误: {e}"),
                });
                return Vec::new();
            }
        };
        // The line from the record's byte offset (the reader's own line count lags a record),
        // counting newlines on from the previous record.
        // With CRLF endings the reader places a record at the `\n` that ends the previous one.
        let mut byte = record.position().map_or(0, |p| p.byte() as usize).min(text.len());
        while matches!(text.as_bytes().get(byte), Some(b'\r' | b'\n')) {
            byte += 1;
        }
        line_at.1 += text.as_bytes()[line_at.0..byte].iter().filter(|b| **b == b'\n').count();
        line_at.0 = byte;
        let line = line_at.1;
        let cells: Vec<String> = record.iter().map(str::to_owned).collect();
        if !header_seen {
            header_seen = true;
            for (i, expected) in columns.iter().enumerate().filter(|(_, c)| !c.is_empty()) {
                let got = cells.get(i).map_or("", |c| c.trim());
                if !expected.split('|').any(|e| e == got) {
                    errors.push(KnowledgeError {
                        file: file.to_owned(),
                        line,
                        message: format!("表头第{}列应为“{}”,而非“{got}”", i + 1, expected.replace('|', "”或“")),
                    });
                    return Vec::new();
                }
            }
            continue;
        }
        let first = cells.first().map_or("", |c| c.trim());
        if cells.iter().all(|c| c.trim().is_empty()) || first == "合计" || first.starts_with("备注") {
            continue;
        }
        if rows.len() == FILE_ROWS_MAX {
            errors.push(KnowledgeError {
                file: file.to_owned(),
                line,
                message: format!("数据行超过上限{FILE_ROWS_MAX}行"),
            });
            return Vec::new();
        }
        rows.push(Row { line, cells });
    }
    if !header_seen {
        errors.push(KnowledgeError {
            file: file.to_owned(),
            line: 0,
            message: "文件为空(缺少表头)".into(),
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn course_remarks_read_as_published() {
        assert_eq!(
            course_of("总时间不超过90天，评定间隔时间不短于14天。"),
            Some((90, Some(14)))
        );
        assert_eq!(course_of("支付不超过30天。"), Some((30, None)));
        assert_eq!(course_of("一个疾病过程支付不超过90天。"), Some((90, None)));
        assert_eq!(course_of("支付不超过一年，每周最多支付一次。"), Some((365, Some(7))));
        assert_eq!(course_of("按规定支付"), None);
    }

    #[test]
    fn file_names_match_their_library() {
        let l = library_of("【第一批】药品规则库(限定性别对象)-Sheet2.csv").map(|l| l.label);
        assert_eq!(l, Some("药品规则库(限定性别对象) 编码"));
        let l = library_of("【第八批-4】项目规则库（限定周期）.csv").map(|l| l.label);
        assert_eq!(l, Some("项目规则库(限定周期)"));
        // 第一批's item age library is not 第八批-2's working-age one.
        let l = library_of("【第八批-2】项目规则库（限定年龄）.csv").map(|l| l.label);
        assert_eq!(l, Some("项目规则库(限定年龄)"));
        assert!(library_of("药品目录.csv").is_none());
    }
}
