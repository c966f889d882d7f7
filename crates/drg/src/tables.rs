//! The CHS-DRG 1.1 tables, parsed from their published text.
//!
//! The loader is pure: the caller reads the files and hands their text over in [`TableTexts`].
//! Every error names the file and the 1-based line it was found on.

use rustc_hash::FxHashMap;

use crate::code::{is_diagnosis_code, is_procedure_code, GroupCode};

/// File names used in error messages, as published.
pub mod files {
    /// MDC list.
    pub const MDC: &str = "1_MDC.txt";
    /// ADRG list.
    pub const ADRG: &str = "2_ADRG.txt";
    /// DRG list.
    pub const DRG: &str = "3_DRG.txt";
    /// ADRG definitions and MDC principal-diagnosis tables.
    pub const ADRG_DETAIL: &str = "4_ADRG_DETAIL.txt";
    /// MCC list with exclusion-table ids.
    pub const MCC: &str = "5_MCC.txt";
    /// CC list with exclusion-table ids.
    pub const CC: &str = "6_CC.txt";
    /// Exclusion tables (表 7-N).
    pub const CC_EXCLUSIONS: &str = "7_CCE.txt";
    /// 医保版 ICD-10 2.0.
    pub const DIAGNOSES: &str = "icd10-yibao-2.0.dat";
    /// 医保版 ICD-10 2.0 grey codes.
    pub const DIAGNOSIS_GREY: &str = "icd10-yibao-2.0-greycodes.dat";
    /// 医保版 ICD-9-CM-3 2.0.
    pub const PROCEDURES: &str = "icd9cm3-yibao-2.0.dat";
    /// 医保版 ICD-9-CM-3 2.0 grey codes.
    pub const PROCEDURE_GREY: &str = "icd9cm3-yibao-2.0-greycodes.dat";

    /// Every file of a table set, the CHS-DRG tables first, then the ICD lists.
    pub const ALL: [&str; 11] = [
        MDC,
        ADRG,
        DRG,
        ADRG_DETAIL,
        MCC,
        CC,
        CC_EXCLUSIONS,
        DIAGNOSES,
        DIAGNOSIS_GREY,
        PROCEDURES,
        PROCEDURE_GREY,
    ];

    /// How many of [`ALL`] are CHS-DRG tables (the rest are ICD lists).
    pub const DRG_TABLES: usize = 7;
}

impl<'a> TableTexts<'a> {
    /// The texts by file name ([`files::ALL`]); the error names the first missing file.
    pub fn from_named(text_of: impl Fn(&str) -> Option<&'a str>) -> Result<TableTexts<'a>, String> {
        let get = |name: &str| text_of(name).ok_or_else(|| format!("缺少分组方案文件{name}"));
        Ok(TableTexts {
            mdc: get(files::MDC)?,
            adrg: get(files::ADRG)?,
            drg: get(files::DRG)?,
            adrg_detail: get(files::ADRG_DETAIL)?,
            mcc: get(files::MCC)?,
            cc: get(files::CC)?,
            cc_exclusions: get(files::CC_EXCLUSIONS)?,
            diagnoses: get(files::DIAGNOSES)?,
            diagnosis_grey: get(files::DIAGNOSIS_GREY)?,
            procedures: get(files::PROCEDURES)?,
            procedure_grey: get(files::PROCEDURE_GREY)?,
        })
    }
}

/// The texts of the published files, read by the caller.
#[derive(Clone, Copy, Debug)]
pub struct TableTexts<'a> {
    /// `chs-drg-1.1/1_MDC.txt`.
    pub mdc: &'a str,
    /// `chs-drg-1.1/2_ADRG.txt`.
    pub adrg: &'a str,
    /// `chs-drg-1.1/3_DRG.txt`.
    pub drg: &'a str,
    /// `chs-drg-1.1/4_ADRG_DETAIL.txt` (it also holds each MDC's 主诊表).
    pub adrg_detail: &'a str,
    /// `chs-drg-1.1/5_MCC.txt`.
    pub mcc: &'a str,
    /// `chs-drg-1.1/6_CC.txt`.
    pub cc: &'a str,
    /// `chs-drg-1.1/7_CCE.txt`.
    pub cc_exclusions: &'a str,
    /// `icd/icd10-yibao-2.0.dat`.
    pub diagnoses: &'a str,
    /// `icd/icd10-yibao-2.0-greycodes.dat`.
    pub diagnosis_grey: &'a str,
    /// `icd/icd9cm3-yibao-2.0.dat`.
    pub procedures: &'a str,
    /// `icd/icd9cm3-yibao-2.0-greycodes.dat`.
    pub procedure_grey: &'a str,
}

/// A table could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LoadError {
    /// The published file name.
    pub file: &'static str,
    /// 1-based line number (0 when the problem concerns the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err(file: &'static str, line: usize, message: impl Into<String>) -> LoadError {
    LoadError {
        file,
        line,
        message: message.into(),
    }
}

/// The kind of an ADRG, from the second letter of its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum AdrgKind {
    /// A–J: operating-room surgery (外科手术).
    Surgical,
    /// K–Q: non-OR procedures (非手术室操作).
    Procedure,
    /// R–Z: medical (内科).
    Medical,
}

impl AdrgKind {
    fn of(second_letter: u8) -> AdrgKind {
        match second_letter {
            b'A'..=b'J' => AdrgKind::Surgical,
            b'K'..=b'Q' => AdrgKind::Procedure,
            _ => AdrgKind::Medical,
        }
    }
}

/// A sorted set of interned code ids.
pub(crate) type CodeSet = Vec<u32>;

pub(crate) fn contains(set: &CodeSet, id: u32) -> bool {
    set.binary_search(&id).is_ok()
}

/// The entry condition of one ADRG, as parsed from 4_ADRG_DETAIL.txt. All present parts must hold.
#[derive(Debug, Default, Clone)]
pub(crate) struct Rule {
    /// 包含以下主要诊断 / 主要诊断 / 包含以下诊断: the principal diagnosis is in the list.
    pub principal_diagnoses: Option<CodeSet>,
    /// 主要诊断或其他诊断中包含以下诊断: some diagnosis is in the list.
    pub any_diagnoses: Option<CodeSet>,
    /// 包含以下主要手术或操作: the main procedure is in the list.
    pub main_procedures: Option<CodeSet>,
    /// Numbered procedure tables (同时包含以下手术 … 和 …, 手术表 N).
    pub procedure_tables: Vec<CodeSet>,
    /// Alternatives over `procedure_tables` (或); each needs some procedure in every listed table (且).
    pub procedure_alternatives: Vec<Vec<usize>>,
    /// 全部手术: the main procedure is any operating-room procedure.
    pub any_or_procedure: bool,
    /// 且无手术: no operating-room procedure at all.
    pub no_or_procedure: bool,
    /// Birth weight range in grams, inclusive (PS1–PS4).
    pub birth_weight_g: Option<(u32, u32)>,
    /// Age in days, inclusive (MDCP: newborn ADRGs 0–28, PV1 29–365).
    pub age_days: Option<(u16, u16)>,
}

#[derive(Debug, Clone)]
pub(crate) struct Mdc {
    pub code: GroupCode,
    pub name: Box<str>,
    pub letter: u8,
    /// 主诊表 (principal-diagnosis table); empty for MDCA.
    pub principal: CodeSet,
    /// ADRG indices: surgical, then procedure, then medical, each in published order.
    pub adrgs: Vec<usize>,
    /// Whether the scheme lists this MDC's ambiguity group (`xQY`, 歧义组) among its DRGs.
    /// CHS-DRG 1.1 lists none (its 628 DRGs have no `xQY`): there a case whose operating-room
    /// procedures fit no surgical ADRG of the MDC is grouped by its principal diagnosis among
    /// the MDC's medical ADRGs. Later versions (2.0, 3.0) list `BQY` … `ZQY`.
    pub ambiguity_group: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Adrg {
    pub code: GroupCode,
    pub name: Box<str>,
    pub mdc: usize,
    pub kind: AdrgKind,
    pub rule: Rule,
    /// DRG suffixes present in 3_DRG.txt: bit 1, 3, 5 or 9 set.
    pub splits: u16,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DiagnosisInfo {
    pub known: bool,
    pub grey: bool,
    pub mcc: Option<u16>,
    pub cc: Option<u16>,
    /// MDCZ body regions (bit per region) whose trauma list holds this code.
    pub trauma_regions: u16,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct ProcedureInfo {
    pub known: bool,
    pub grey: bool,
    /// Listed in some surgical (A–J) ADRG: an operating-room procedure.
    pub operating_room: bool,
    /// The MDCs (bit = MDC index) whose surgical ADRGs list it: what "无手术" in a medical
    /// ADRG's rule (ZZ1 "符合 MDCZ 主诊表，且无手术") looks at is an operation of that MDC.
    pub surgical_mdcs: u32,
}

#[derive(Debug, Clone)]
pub(crate) struct ExclusionTable {
    pub name: Box<str>,
    pub principal: CodeSet,
}

/// Interned code strings with their attributes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Interner<T> {
    pub ids: FxHashMap<Box<str>, u32>,
    pub codes: Vec<Box<str>>,
    pub info: Vec<T>,
}

impl<T: Default> Interner<T> {
    pub fn intern(&mut self, code: &str) -> u32 {
        if let Some(&id) = self.ids.get(code) {
            return id;
        }
        let id = self.codes.len() as u32;
        self.ids.insert(code.into(), id);
        self.codes.push(code.into());
        self.info.push(T::default());
        id
    }

    pub fn get(&self, code: &str) -> Option<u32> {
        self.ids.get(code).copied()
    }
}

/// The loaded CHS-DRG tables.
#[derive(Debug, Clone)]
pub struct Tables {
    pub(crate) mdcs: Vec<Mdc>,
    /// MDC indices in grouping order: A, P, Y, Z, M, N, then the others as published.
    pub(crate) mdc_order: Vec<usize>,
    pub(crate) adrgs: Vec<Adrg>,
    pub(crate) drgs: FxHashMap<GroupCode, Box<str>>,
    pub(crate) diagnoses: Interner<DiagnosisInfo>,
    pub(crate) procedures: Interner<ProcedureInfo>,
    pub(crate) exclusions: Vec<ExclusionTable>,
    pub(crate) mdcz_region_names: Vec<Box<str>>,
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_start_matches('\u{feff}').trim()))
}

/// Splits `CODE NAME` into its two parts.
fn code_and_name(line: &str) -> (&str, &str) {
    match line.split_once(char::is_whitespace) {
        Some((c, n)) => (c, n.trim()),
        None => (line, ""),
    }
}

/// Parses the exclusion-table id `7-N` (from `表 7-N` or `表7-N`).
fn table_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix("7-")?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then_some(token)
}

impl Tables {
    /// Parses the published tables.
    pub fn load(texts: &TableTexts<'_>) -> Result<Tables, LoadError> {
        let mut t = Tables {
            mdcs: Vec::new(),
            mdc_order: Vec::new(),
            adrgs: Vec::new(),
            drgs: FxHashMap::default(),
            diagnoses: Interner::default(),
            procedures: Interner::default(),
            exclusions: Vec::new(),
            mdcz_region_names: Vec::new(),
        };
        t.load_code_lists(texts)?;
        t.load_mdcs(texts.mdc)?;
        t.load_adrgs(texts.adrg)?;
        t.load_drgs(texts.drg)?;
        t.load_detail(texts.adrg_detail)?;
        t.load_exclusions(texts.cc_exclusions)?;
        t.load_severity(texts.mcc, files::MCC, true)?;
        t.load_severity(texts.cc, files::CC, false)?;
        t.finish();
        Ok(t)
    }

    fn load_code_lists(&mut self, texts: &TableTexts<'_>) -> Result<(), LoadError> {
        for (file, text, grey) in [
            (files::DIAGNOSES, texts.diagnoses, false),
            (files::DIAGNOSIS_GREY, texts.diagnosis_grey, true),
        ] {
            for (n, line) in lines(text) {
                if line.is_empty() {
                    continue;
                }
                let (code, _) = code_and_name(line);
                if !is_diagnosis_code(code) {
                    return Err(err(file, n, format!("not a diagnosis code: {code:?}")));
                }
                let id = self.diagnoses.intern(code) as usize;
                let info = &mut self.diagnoses.info[id];
                if grey {
                    info.grey = true;
                } else {
                    info.known = true;
                }
            }
        }
        for (file, text, grey) in [
            (files::PROCEDURES, texts.procedures, false),
            (files::PROCEDURE_GREY, texts.procedure_grey, true),
        ] {
            for (n, line) in lines(text) {
                if line.is_empty() {
                    continue;
                }
                let (code, _) = code_and_name(line);
                if !is_procedure_code(code) {
                    return Err(err(file, n, format!("not a procedure code: {code:?}")));
                }
                let id = self.procedures.intern(code) as usize;
                let info = &mut self.procedures.info[id];
                if grey {
                    info.grey = true;
                } else {
                    info.known = true;
                }
            }
        }
        Ok(())
    }

    fn load_mdcs(&mut self, text: &str) -> Result<(), LoadError> {
        for (n, line) in lines(text) {
            if line.is_empty() {
                continue;
            }
            let (code, name) = code_and_name(line);
            let letter = match code.as_bytes() {
                [b'M', b'D', b'C', l] if l.is_ascii_uppercase() => *l,
                _ => return Err(err(files::MDC, n, format!("not an MDC code: {code:?}"))),
            };
            if self.mdcs.iter().any(|m| m.letter == letter) {
                return Err(err(files::MDC, n, format!("duplicate MDC {code}")));
            }
            self.mdcs.push(Mdc {
                code: GroupCode::from_ascii(code.as_bytes()),
                name: name.into(),
                letter,
                principal: Vec::new(),
                adrgs: Vec::new(),
                ambiguity_group: false,
            });
        }
        let mut order: Vec<usize> = Vec::new();
        for letter in *b"APYZMN" {
            if let Some(i) = self.mdc_index(letter) {
                order.push(i);
            }
        }
        for i in 0..self.mdcs.len() {
            if !order.contains(&i) {
                order.push(i);
            }
        }
        self.mdc_order = order;
        Ok(())
    }

    pub(crate) fn mdc_index(&self, letter: u8) -> Option<usize> {
        self.mdcs.iter().position(|m| m.letter == letter)
    }

    fn adrg_index(&self, code: &str) -> Option<usize> {
        self.adrgs.iter().position(|a| a.code.as_str() == code)
    }

    fn load_adrgs(&mut self, text: &str) -> Result<(), LoadError> {
        for (n, line) in lines(text) {
            if line.is_empty() {
                continue;
            }
            let (code, name) = code_and_name(line);
            let b = code.as_bytes();
            if !(b.len() == 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_uppercase() && b[2].is_ascii_digit()) {
                return Err(err(files::ADRG, n, format!("not an ADRG code: {code:?}")));
            }
            let mdc = self.mdc_index(b[0]).ok_or_else(|| {
                err(
                    files::ADRG,
                    n,
                    format!("ADRG {code} belongs to no MDC in {}", files::MDC),
                )
            })?;
            if self.adrg_index(code).is_some() {
                return Err(err(files::ADRG, n, format!("duplicate ADRG {code}")));
            }
            self.adrgs.push(Adrg {
                code: GroupCode::from_ascii(b),
                name: name.into(),
                mdc,
                kind: AdrgKind::of(b[1]),
                rule: Rule::default(),
                splits: 0,
            });
        }
        Ok(())
    }

    fn load_drgs(&mut self, text: &str) -> Result<(), LoadError> {
        for (n, line) in lines(text) {
            if line.is_empty() {
                continue;
            }
            let (code, name) = code_and_name(line);
            let b = code.as_bytes();
            // An MDC's ambiguity group (`FQY`, listed by CHS-DRG 2.0 and later): a group of the
            // MDC, not of an ADRG.
            if let [l, b'Q', b'Y'] = b {
                if self.mdc_index(*l).is_none() {
                    return Err(err(files::DRG, n, format!("ambiguity group {code} of no MDC")));
                }
                if self.drgs.insert(GroupCode::from_ascii(b), name.into()).is_some() {
                    return Err(err(files::DRG, n, format!("duplicate DRG {code}")));
                }
                continue;
            }
            let suffix = match b {
                [_, _, _, s @ (b'1' | b'3' | b'5' | b'9')] => s - b'0',
                _ => return Err(err(files::DRG, n, format!("not a DRG code: {code:?}"))),
            };
            let adrg = self.adrg_index(&code[..3]).ok_or_else(|| {
                err(
                    files::DRG,
                    n,
                    format!("DRG {code} belongs to no ADRG in {}", files::ADRG),
                )
            })?;
            let drg = GroupCode::from_ascii(b);
            if self.drgs.insert(drg, name.into()).is_some() {
                return Err(err(files::DRG, n, format!("duplicate DRG {code}")));
            }
            self.adrgs[adrg].splits |= 1 << suffix;
        }
        if let Some(a) = self.adrgs.iter().find(|a| a.splits == 0) {
            return Err(err(files::DRG, 0, format!("ADRG {} has no DRG", a.code)));
        }
        Ok(())
    }

    fn load_detail(&mut self, text: &str) -> Result<(), LoadError> {
        const F: &str = files::ADRG_DETAIL;
        #[derive(Clone, Copy, PartialEq)]
        enum Target {
            None,
            MdcPrincipal(usize),
            TraumaRegion(usize, usize),
            Principal,
            Any,
            Main,
            ProcTable(usize),
        }
        let mut target = Target::None;
        let mut mdc_section: Option<usize> = None; // inside an MDC's 主诊表
        let mut adrg: Option<usize> = None;
        let mut rule = Rule::default();
        let mut seen = vec![false; self.adrgs.len()];
        let mdcz = self.mdc_index(b'Z');

        for (n, line) in lines(text) {
            if line.is_empty() {
                continue;
            }
            let (first, rest) = code_and_name(line);
            // MDC header or MDC principal table.
            if first.len() == 4 && first.starts_with("MDC") {
                let m = self
                    .mdc_index(first.as_bytes()[3])
                    .ok_or_else(|| err(F, n, format!("unknown MDC {first}")))?;
                if let Some(a) = adrg.take() {
                    self.adrgs[a].rule = std::mem::take(&mut rule);
                }
                mdc_section = (rest == "主诊表").then_some(m);
                target = Target::None;
                continue;
            }
            // ADRG header.
            let fb = first.as_bytes();
            if fb.len() == 3 && fb[0].is_ascii_uppercase() && fb[1].is_ascii_uppercase() && fb[2].is_ascii_digit() {
                let a = self
                    .adrg_index(first)
                    .ok_or_else(|| err(F, n, format!("unknown ADRG {first}")))?;
                if seen[a] {
                    return Err(err(F, n, format!("ADRG {first} defined twice")));
                }
                seen[a] = true;
                if let Some(prev) = adrg.replace(a) {
                    self.adrgs[prev].rule = std::mem::take(&mut rule);
                }
                rule = Rule::default();
                rule.birth_weight_g = match first {
                    "PS1" => Some((0, 1499)),
                    "PS2" => Some((1500, 1999)),
                    "PS3" => Some((2000, 2499)),
                    "PS4" => Some((2500, u32::MAX)),
                    _ => None,
                };
                if first.starts_with('P') {
                    rule.age_days = Some(if first == "PV1" { (29, 365) } else { (0, 28) });
                }
                mdc_section = None;
                target = Target::None;
                continue;
            }
            // A code in the current list.
            if is_diagnosis_code(first) || is_procedure_code(first) {
                let is_dx = is_diagnosis_code(first);
                match target {
                    Target::MdcPrincipal(m) if is_dx => {
                        let id = self.diagnoses.intern(first);
                        self.mdcs[m].principal.push(id);
                    }
                    Target::TraumaRegion(m, region) if is_dx => {
                        let id = self.diagnoses.intern(first);
                        self.mdcs[m].principal.push(id);
                        self.diagnoses.info[id as usize].trauma_regions |= 1 << region;
                    }
                    Target::Principal if is_dx => {
                        let id = self.diagnoses.intern(first);
                        rule.principal_diagnoses.get_or_insert_with(Vec::new).push(id);
                    }
                    Target::Any if is_dx => {
                        let id = self.diagnoses.intern(first);
                        rule.any_diagnoses.get_or_insert_with(Vec::new).push(id);
                    }
                    Target::Main if !is_dx => {
                        let id = self.procedures.intern(first);
                        rule.main_procedures.get_or_insert_with(Vec::new).push(id);
                    }
                    Target::ProcTable(i) if !is_dx => {
                        let id = self.procedures.intern(first);
                        rule.procedure_tables[i].push(id);
                    }
                    _ => return Err(err(F, n, format!("code {first} outside a list of its kind"))),
                }
                continue;
            }
            // A list header.
            match line {
                "包含以下主要诊断：" => {
                    target = match mdc_section {
                        Some(m) if Some(m) == mdcz => match self.mdcz_region_names.len() {
                            0 => return Err(err(F, n, "MDCZ principal list before any body region")),
                            r => Target::TraumaRegion(m, r - 1),
                        },
                        Some(m) => Target::MdcPrincipal(m),
                        None if adrg.is_some() => Target::Principal,
                        None => return Err(err(F, n, "list outside an ADRG or MDC")),
                    };
                    if matches!(target, Target::Principal) && rule.principal_diagnoses.is_some() {
                        return Err(err(F, n, "second principal-diagnosis list"));
                    }
                }
                // A body-region header inside the MDCZ principal table (头颈部创伤, 胸部创伤, …).
                _ if adrg.is_none() && mdc_section.is_some() && mdc_section == mdcz && !line.contains('：') => {
                    if self.mdcz_region_names.len() >= 16 {
                        return Err(err(F, n, "too many MDCZ body regions"));
                    }
                    self.mdcz_region_names.push(line.into());
                    target = Target::None;
                }
                _ if adrg.is_none() => return Err(err(F, n, format!("unrecognised line {line:?}"))),
                "主要诊断：" | "包含以下诊断：" => target = Target::Principal,
                "包含以下主要手术或操作：" => target = Target::Main,
                "主要诊断或其他诊断中包含以下诊断：" => target = Target::Any,
                "同时包含以下手术：" => {
                    rule.procedure_tables = vec![Vec::new(), Vec::new()];
                    rule.procedure_alternatives = vec![vec![0, 1]];
                    target = Target::ProcTable(0);
                }
                "和" if rule.procedure_tables.len() == 2 => target = Target::ProcTable(1),
                "全部手术" | "包含全部手术" => rule.any_or_procedure = true,
                "符合 MDCZ 主诊表，且无手术" => rule.no_or_procedure = true,
                _ if line.starts_with("包含以下主要诊断+") || line.starts_with("或包含以下主要诊断+") =>
                {
                    let mut alternative = Vec::new();
                    for part in line.split('+').skip(1) {
                        let number = part.trim_start_matches("手术表").trim();
                        let i: usize = number
                            .parse()
                            .ok()
                            .filter(|&i| (1..=8).contains(&i))
                            .ok_or_else(|| err(F, n, format!("bad procedure table reference {part:?}")))?;
                        alternative.push(i - 1);
                        if rule.procedure_tables.len() < i {
                            rule.procedure_tables.resize(i, Vec::new());
                        }
                    }
                    rule.procedure_alternatives.push(alternative);
                    target = Target::None;
                }
                _ if (line.starts_with("手术表") || line.starts_with("手术 ")) && line.ends_with('：') => {
                    let number = line
                        .trim_start_matches("手术表")
                        .trim_start_matches("手术")
                        .trim_end_matches('：');
                    let i: usize = number
                        .trim()
                        .parse()
                        .ok()
                        .filter(|&i| (1..=rule.procedure_tables.len()).contains(&i))
                        .ok_or_else(|| err(F, n, format!("bad procedure table header {line:?}")))?;
                    target = Target::ProcTable(i - 1);
                }
                _ => return Err(err(F, n, format!("unrecognised line {line:?}"))),
            }
        }
        if let Some(a) = adrg {
            self.adrgs[a].rule = rule;
        }
        if let Some(a) = seen.iter().position(|s| !s) {
            return Err(err(F, 0, format!("ADRG {} has no definition", self.adrgs[a].code)));
        }
        Ok(())
    }

    fn load_exclusions(&mut self, text: &str) -> Result<(), LoadError> {
        let mut current: Option<usize> = None;
        let mut after_marker = false;
        for (n, line) in lines(text) {
            for token in line.split_whitespace() {
                if token == "表" {
                    after_marker = true;
                    continue;
                }
                let id = if after_marker {
                    table_id(token)
                } else {
                    token.strip_prefix("表").and_then(table_id)
                };
                after_marker = false;
                if let Some(id) = id {
                    if self.exclusion_index(id).is_some() {
                        return Err(err(files::CC_EXCLUSIONS, n, format!("table 表{id} listed twice")));
                    }
                    self.exclusions.push(ExclusionTable {
                        name: id.into(),
                        principal: Vec::new(),
                    });
                    current = Some(self.exclusions.len() - 1);
                } else if is_diagnosis_code(token) {
                    let table = current.ok_or_else(|| err(files::CC_EXCLUSIONS, n, "code before any 表 7-N"))?;
                    let code = self.diagnoses.intern(token);
                    self.exclusions[table].principal.push(code);
                }
            }
        }
        Ok(())
    }

    fn exclusion_index(&self, id: &str) -> Option<usize> {
        self.exclusions.iter().position(|t| &*t.name == id)
    }

    /// 5_MCC.txt / 6_CC.txt: `code name… 表 7-N` or `code name… 无`; page breaks can wrap or join entries,
    /// so the text is read as a token stream.
    fn load_severity(&mut self, text: &str, file: &'static str, mcc: bool) -> Result<(), LoadError> {
        let mut pending: Option<(u32, usize)> = None;
        let mut after_marker = false;
        for (n, line) in lines(text) {
            for token in line.split_whitespace() {
                if is_diagnosis_code(token) {
                    if let Some((code, at)) = pending {
                        let code = &self.diagnoses.codes[code as usize];
                        return Err(err(file, at, format!("{code} has no exclusion table")));
                    }
                    pending = Some((self.diagnoses.intern(token), n));
                    after_marker = false;
                    continue;
                }
                if token == "表" {
                    after_marker = true;
                    continue;
                }
                let id = if after_marker {
                    table_id(token)
                } else {
                    token.strip_prefix("表").and_then(table_id)
                };
                after_marker = false;
                let table = match (id, token) {
                    (Some(id), _) => {
                        let t = self
                            .exclusion_index(id)
                            .ok_or_else(|| err(file, n, format!("unknown exclusion table 表{id}")))?;
                        Some(t as u16)
                    }
                    (None, "无") => None,
                    _ => continue,
                };
                if let Some((code, _)) = pending.take() {
                    let info = &mut self.diagnoses.info[code as usize];
                    // Without an exclusion table a code is never excluded: use u16::MAX as "none".
                    let table = Some(table.unwrap_or(u16::MAX));
                    if mcc {
                        info.mcc = table;
                    } else {
                        info.cc = table;
                    }
                }
            }
        }
        if let Some((code, at)) = pending {
            let code = &self.diagnoses.codes[code as usize];
            return Err(err(file, at, format!("{code} has no exclusion table")));
        }
        Ok(())
    }

    fn finish(&mut self) {
        for m in &mut self.mdcs {
            m.principal.sort_unstable();
            m.principal.dedup();
        }
        for t in &mut self.exclusions {
            t.principal.sort_unstable();
            t.principal.dedup();
        }
        for (i, a) in self.adrgs.iter_mut().enumerate() {
            let r = &mut a.rule;
            for set in [&mut r.principal_diagnoses, &mut r.any_diagnoses, &mut r.main_procedures]
                .into_iter()
                .flatten()
            {
                set.sort_unstable();
                set.dedup();
            }
            for set in &mut r.procedure_tables {
                set.sort_unstable();
                set.dedup();
            }
            // A surgical or procedure ADRG defined by diagnoses alone (or by nothing, like WJ1)
            // still needs a procedure: any operating-room procedure.
            if a.kind != AdrgKind::Medical
                && r.main_procedures.is_none()
                && r.procedure_alternatives.is_empty()
                && !r.no_or_procedure
            {
                r.any_or_procedure = true;
            }
            if a.kind == AdrgKind::Surgical {
                for &p in r.main_procedures.iter().chain(&r.procedure_tables).flatten() {
                    let info = &mut self.procedures.info[p as usize];
                    info.operating_room = true;
                    info.surgical_mdcs |= 1 << a.mdc;
                }
            }
            self.mdcs[a.mdc].adrgs.push(i);
        }
        let (adrgs, drgs) = (&self.adrgs, &self.drgs);
        for m in &mut self.mdcs {
            m.ambiguity_group = drgs.contains_key(&GroupCode::from_ascii(&[m.letter, b'Q', b'Y']));
            m.adrgs.sort_by_key(|&i| match adrgs[i].kind {
                AdrgKind::Surgical => 0,
                AdrgKind::Procedure => 1,
                AdrgKind::Medical => 2,
            });
        }
    }

    /// Number of MDCs (26 in CHS-DRG 1.1).
    pub fn mdc_count(&self) -> usize {
        self.mdcs.len()
    }

    /// Number of ADRGs (376 in CHS-DRG 1.1).
    pub fn adrg_count(&self) -> usize {
        self.adrgs.len()
    }

    /// Number of DRGs (628 in CHS-DRG 1.1).
    pub fn drg_count(&self) -> usize {
        self.drgs.len()
    }

    /// The published name of an MDC, by letter (`b'F'`).
    pub fn mdc_name(&self, letter: u8) -> Option<&str> {
        self.mdc_index(letter).map(|m| &*self.mdcs[m].name)
    }

    /// The published name of a DRG.
    pub fn drg_name(&self, drg: GroupCode) -> Option<&str> {
        self.drgs.get(&drg).map(|n| &**n)
    }

    /// All ADRGs in published order.
    pub fn adrgs(&self) -> impl Iterator<Item = AdrgDefinition<'_>> {
        self.adrgs.iter().map(move |adrg| AdrgDefinition { tables: self, adrg })
    }

    /// The principal-diagnosis table (主诊表) of an MDC, by letter (`b'F'`), in code-id order.
    pub fn mdc_principal_diagnoses(&self, letter: u8) -> Vec<&str> {
        self.mdc_index(letter)
            .map(|m| self.dx_codes(&self.mdcs[m].principal))
            .unwrap_or_default()
    }

    /// The MDCZ body regions a diagnosis belongs to (indices into [`Tables::mdcz_regions`]).
    pub fn trauma_regions(&self, diagnosis: &str) -> Vec<usize> {
        let mask = self
            .diagnoses
            .get(diagnosis)
            .map_or(0, |id| self.diagnoses.info[id as usize].trauma_regions);
        (0..16).filter(|r| mask & (1 << r) != 0).collect()
    }

    /// The MDCZ body-region names (头颈部创伤, 胸部创伤, …).
    pub fn mdcz_regions(&self) -> Vec<&str> {
        self.mdcz_region_names.iter().map(|n| &**n).collect()
    }

    /// The diagnosis is in the 医保版 ICD-10 2.0 list.
    pub fn is_known_diagnosis(&self, code: &str) -> bool {
        self.diagnoses
            .get(code)
            .is_some_and(|id| self.diagnoses.info[id as usize].known)
    }

    /// The diagnosis is a grey code (not allowed as principal diagnosis).
    pub fn is_grey_diagnosis(&self, code: &str) -> bool {
        self.diagnoses
            .get(code)
            .is_some_and(|id| self.diagnoses.info[id as usize].grey)
    }

    /// The procedure is in the 医保版 ICD-9-CM-3 2.0 list.
    pub fn is_known_procedure(&self, code: &str) -> bool {
        self.procedures
            .get(code)
            .is_some_and(|id| self.procedures.info[id as usize].known)
    }

    /// The procedure is a grey code (not allowed as main procedure).
    pub fn is_grey_procedure(&self, code: &str) -> bool {
        self.procedures
            .get(code)
            .is_some_and(|id| self.procedures.info[id as usize].grey)
    }

    /// The procedure is an operating-room procedure (listed in some surgical ADRG).
    pub fn is_operating_room_procedure(&self, code: &str) -> bool {
        self.procedures
            .get(code)
            .is_some_and(|id| self.procedures.info[id as usize].operating_room)
    }

    /// The exclusion table (`7-N`) of an MCC diagnosis; `Some("")` when it has none.
    pub fn mcc_exclusion_table(&self, code: &str) -> Option<&str> {
        let id = self.diagnoses.get(code)?;
        self.diagnoses.info[id as usize].mcc.map(|t| self.exclusion_name(t))
    }

    /// The exclusion table (`7-N`) of a CC diagnosis; `Some("")` when it has none.
    pub fn cc_exclusion_table(&self, code: &str) -> Option<&str> {
        let id = self.diagnoses.get(code)?;
        self.diagnoses.info[id as usize].cc.map(|t| self.exclusion_name(t))
    }

    /// The principal diagnoses of an exclusion table (`7-12`).
    pub fn exclusion_table(&self, id: &str) -> Option<Vec<&str>> {
        self.exclusion_index(id)
            .map(|t| self.dx_codes(&self.exclusions[t].principal))
    }

    pub(crate) fn exclusion_name(&self, table: u16) -> &str {
        self.exclusions.get(table as usize).map_or("", |t| &t.name)
    }

    pub(crate) fn dx_codes(&self, set: &CodeSet) -> Vec<&str> {
        set.iter().map(|&id| &*self.diagnoses.codes[id as usize]).collect()
    }

    pub(crate) fn px_codes(&self, set: &CodeSet) -> Vec<&str> {
        set.iter().map(|&id| &*self.procedures.codes[id as usize]).collect()
    }
}

/// A read-only view of one ADRG's published definition.
#[derive(Clone, Copy)]
pub struct AdrgDefinition<'t> {
    tables: &'t Tables,
    adrg: &'t Adrg,
}

impl<'t> AdrgDefinition<'t> {
    /// The ADRG code (`FM1`).
    pub fn code(&self) -> GroupCode {
        self.adrg.code
    }
    /// The published name.
    pub fn name(&self) -> &'t str {
        &self.adrg.name
    }
    /// The MDC code (`MDCF`).
    pub fn mdc(&self) -> GroupCode {
        self.tables.mdcs[self.adrg.mdc].code
    }
    /// Surgical, procedure or medical.
    pub fn kind(&self) -> AdrgKind {
        self.adrg.kind
    }
    /// The principal diagnosis must be one of these (if any are listed).
    pub fn principal_diagnoses(&self) -> Option<Vec<&'t str>> {
        self.adrg
            .rule
            .principal_diagnoses
            .as_ref()
            .map(|s| self.tables.dx_codes(s))
    }
    /// Some diagnosis (principal or other) must be one of these (if any are listed).
    pub fn any_diagnoses(&self) -> Option<Vec<&'t str>> {
        self.adrg.rule.any_diagnoses.as_ref().map(|s| self.tables.dx_codes(s))
    }
    /// The main procedure must be one of these (if any are listed).
    pub fn main_procedures(&self) -> Option<Vec<&'t str>> {
        self.adrg.rule.main_procedures.as_ref().map(|s| self.tables.px_codes(s))
    }
    /// The numbered procedure tables.
    pub fn procedure_tables(&self) -> Vec<Vec<&'t str>> {
        self.adrg
            .rule
            .procedure_tables
            .iter()
            .map(|s| self.tables.px_codes(s))
            .collect()
    }
    /// Alternatives (或) over the procedure tables; each needs a procedure from every listed table (且).
    pub fn procedure_alternatives(&self) -> &'t [Vec<usize>] {
        &self.adrg.rule.procedure_alternatives
    }
    /// The main procedure must be an operating-room procedure.
    pub fn requires_or_procedure(&self) -> bool {
        self.adrg.rule.any_or_procedure
    }
    /// No operating-room procedure is allowed.
    pub fn forbids_or_procedure(&self) -> bool {
        self.adrg.rule.no_or_procedure
    }
    /// The birth-weight range in grams (inclusive), for PS1–PS4.
    pub fn birth_weight_g(&self) -> Option<(u32, u32)> {
        self.adrg.rule.birth_weight_g
    }
    /// The age range in days (inclusive) for the newborn ADRGs of MDCP.
    pub fn age_days(&self) -> Option<(u16, u16)> {
        self.adrg.rule.age_days
    }
    /// The DRGs of this ADRG.
    pub fn drgs(&self) -> Vec<GroupCode> {
        [1u8, 3, 5, 9]
            .into_iter()
            .filter(|s| self.adrg.splits & (1 << s) != 0)
            .map(|s| {
                let c = self.adrg.code.as_str().as_bytes();
                GroupCode::from_ascii(&[c[0], c[1], c[2], b'0' + s])
            })
            .collect()
    }
}
