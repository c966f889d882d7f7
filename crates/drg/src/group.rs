//! Grouping one case: MDC → ADRG → DRG.

use std::fmt::Write as _;

use crate::code::GroupCode;
use crate::tables::{contains, Adrg, AdrgKind, CodeSet, Mdc, Tables};

/// At most this many diagnoses (principal included) per case.
pub const MAX_DIAGNOSES: usize = 50;
/// At most this many procedures (main included) per case.
pub const MAX_PROCEDURES: usize = 50;
/// Longest accepted code, in bytes.
pub const MAX_CODE_LEN: usize = 32;

/// Sex as coded on the 医保结算清单 (1 = male, 2 = female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Sex {
    /// 男.
    Male,
    /// 女.
    Female,
    /// 未知 / 未说明.
    Unknown,
}

/// 离院方式 on the 医保结算清单.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DischargeMethod {
    /// 1 医嘱离院.
    Ordered,
    /// 2 医嘱转院.
    TransferredToHospital,
    /// 3 医嘱转社区卫生服务机构/乡镇卫生院.
    TransferredToCommunity,
    /// 4 非医嘱离院.
    AgainstAdvice,
    /// 5 死亡.
    Died,
    /// 9 其他.
    Other,
}

impl DischargeMethod {
    /// Reads the 离院方式 code (`1`–`5`, `9`); an empty code is 医嘱离院, the usual case.
    pub fn from_code(code: &str) -> Option<DischargeMethod> {
        Some(match code {
            "1" | "" => DischargeMethod::Ordered,
            "2" => DischargeMethod::TransferredToHospital,
            "3" => DischargeMethod::TransferredToCommunity,
            "4" => DischargeMethod::AgainstAdvice,
            "5" => DischargeMethod::Died,
            "9" => DischargeMethod::Other,
            _ => return None,
        })
    }
}

/// One inpatient stay, as the grouper sees it (the grouping fields of the 医保结算清单).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Case {
    /// 性别.
    pub sex: Sex,
    /// 年龄 (years).
    pub age_years: u16,
    /// 年龄不足1周岁的天数; `None` when the patient is one year or older.
    pub age_days: Option<u16>,
    /// 新生儿出生体重 (grams).
    pub birth_weight_g: Option<u32>,
    /// 住院天数.
    pub los_days: u32,
    /// 离院方式.
    pub discharge_method: DischargeMethod,
    /// 医保版 ICD-10 2.0 diagnoses, principal first.
    pub diagnoses: Vec<String>,
    /// 医保版 ICD-9-CM-3 2.0 procedures, main first.
    pub procedures: Vec<String>,
    /// 呼吸机使用时长 (hours). Recorded for completeness; CHS-DRG 1.1 groups ventilation by its
    /// procedure code (96.7201 = ≥ 96 h), so it does not change the result.
    pub ventilation_hours: u32,
}

/// Why a case ended where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Reason {
    /// Grouped into a DRG.
    Grouped,
    /// The case lists no diagnosis.
    NoPrincipalDiagnosis,
    /// More than [`MAX_DIAGNOSES`] diagnoses or [`MAX_PROCEDURES`] procedures, or an over-long code.
    InputTooLarge,
    /// The principal diagnosis is not in 医保版 ICD-10 2.0.
    UnknownPrincipalDiagnosis,
    /// The principal diagnosis is a grey code (灰码).
    GreyPrincipalDiagnosis,
    /// The main procedure is not in 医保版 ICD-9-CM-3 2.0.
    UnknownMainProcedure,
    /// The main procedure is a grey code (灰码).
    GreyMainProcedure,
    /// The principal diagnosis belongs to no MDC (for this sex and age): 0000.
    NoMdc,
    /// An operating-room procedure fits no surgical ADRG of the MDC: xQY (歧义组).
    AmbiguousProcedure,
    /// The MDC was entered but no ADRG matched: 0000.
    NoAdrg,
}

impl Reason {
    /// A short Chinese description.
    pub fn describe(self) -> &'static str {
        match self {
            Reason::Grouped => "分组成功",
            Reason::NoPrincipalDiagnosis => "无主要诊断，无法入组",
            Reason::InputTooLarge => "诊断或手术数量超过上限，无法入组",
            Reason::UnknownPrincipalDiagnosis => "主要诊断不在医保版ICD-10 2.0中，无法入组",
            Reason::GreyPrincipalDiagnosis => "主要诊断为灰码，无法入组",
            Reason::UnknownMainProcedure => "主要手术不在医保版ICD-9-CM-3 2.0中，无法入组",
            Reason::GreyMainProcedure => "主要手术为灰码，无法入组",
            Reason::NoMdc => "主要诊断不属于任何MDC，无法入组",
            Reason::AmbiguousProcedure => "手术室手术与MDC不符，进入歧义组",
            Reason::NoAdrg => "进入MDC但未进入任何ADRG，无法入组",
        }
    }
}

/// The result of grouping one case.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Grouping {
    /// The MDC (`MDCF`), if one was entered.
    pub mdc: Option<GroupCode>,
    /// The ADRG (`FM1`), if one was entered.
    pub adrg: Option<GroupCode>,
    /// The DRG (`FM13`), the ambiguity group (`FQY`) or `0000`.
    pub drg: GroupCode,
    /// Why the case ended here.
    pub reason: Reason,
    /// Each decision, in order, in words (empty from [`classify`]).
    pub steps: Vec<String>,
}

/// Groups a case and explains every decision in [`Grouping::steps`].
pub fn group(tables: &Tables, case: &Case) -> Grouping {
    let mut steps = Vec::with_capacity(6);
    let mut g = run(tables, case, Some(&mut steps));
    g.steps = steps;
    g
}

/// Groups a case without building the explanation (the fast path for batch settlement).
pub fn classify(tables: &Tables, case: &Case) -> Grouping {
    run(tables, case, None)
}

/// Collects explanation lines when asked to.
struct Trace<'a>(Option<&'a mut Vec<String>>);

impl Trace<'_> {
    #[inline]
    fn note(&mut self, f: impl FnOnce(&mut String)) {
        if let Some(steps) = self.0.as_deref_mut() {
            let mut s = String::new();
            f(&mut s);
            steps.push(s);
        }
    }
}

fn outcome(mdc: Option<GroupCode>, adrg: Option<GroupCode>, drg: GroupCode, reason: Reason) -> Grouping {
    Grouping {
        mdc,
        adrg,
        drg,
        reason,
        steps: Vec::new(),
    }
}

fn ungroupable(reason: Reason) -> Grouping {
    outcome(None, None, GroupCode::UNGROUPABLE, reason)
}

/// The case with its codes resolved to table ids (unknown codes dropped).
struct Resolved {
    principal: u32,
    others: [u32; MAX_DIAGNOSES],
    n_others: usize,
    procedures: [u32; MAX_PROCEDURES],
    n_procedures: usize,
}

impl Resolved {
    fn others(&self) -> &[u32] {
        &self.others[..self.n_others]
    }
    fn procedures(&self) -> &[u32] {
        &self.procedures[..self.n_procedures]
    }
    fn main_procedure(&self) -> Option<u32> {
        self.procedures().first().copied()
    }
    fn any_diagnosis_in(&self, set: &CodeSet) -> bool {
        contains(set, self.principal) || self.others().iter().any(|&d| contains(set, d))
    }
    fn any_procedure_in(&self, set: &CodeSet) -> bool {
        self.procedures().iter().any(|&p| contains(set, p))
    }
}

fn run(tables: &Tables, case: &Case, steps: Option<&mut Vec<String>>) -> Grouping {
    let mut trace = Trace(steps);
    let dx = &tables.diagnoses;
    let px = &tables.procedures;

    // 0. Validation.
    if case.diagnoses.len() > MAX_DIAGNOSES
        || case.procedures.len() > MAX_PROCEDURES
        || case
            .diagnoses
            .iter()
            .chain(&case.procedures)
            .any(|c| c.len() > MAX_CODE_LEN)
    {
        trace.note(|s| {
            let _ = write!(
                s,
                "诊断{}个、手术{}个，超过上限(诊断≤{MAX_DIAGNOSES}、手术≤{MAX_PROCEDURES}、编码≤{MAX_CODE_LEN}字节)",
                case.diagnoses.len(),
                case.procedures.len()
            );
        });
        return ungroupable(Reason::InputTooLarge);
    }
    let Some(principal_code) = case.diagnoses.first().map(|c| c.trim()) else {
        trace.note(|s| s.push_str("病例无主要诊断"));
        return ungroupable(Reason::NoPrincipalDiagnosis);
    };
    let principal = match dx.get(principal_code) {
        Some(id) if dx.info[id as usize].grey => {
            trace.note(|s| {
                let _ = write!(s, "主要诊断{principal_code}为灰码，不能作为主要诊断");
            });
            return ungroupable(Reason::GreyPrincipalDiagnosis);
        }
        Some(id) if dx.info[id as usize].known => id,
        _ => {
            trace.note(|s| {
                let _ = write!(s, "主要诊断{principal_code}不在医保版ICD-10 2.0中");
            });
            return ungroupable(Reason::UnknownPrincipalDiagnosis);
        }
    };
    let mut r = Resolved {
        principal,
        others: [0; MAX_DIAGNOSES],
        n_others: 0,
        procedures: [0; MAX_PROCEDURES],
        n_procedures: 0,
    };
    for code in case.diagnoses[1..].iter().map(|c| c.trim()) {
        match dx.get(code).filter(|&id| dx.info[id as usize].known) {
            Some(id) => {
                r.others[r.n_others] = id;
                r.n_others += 1;
            }
            None => trace.note(|s| {
                let _ = write!(s, "其他诊断{code}不在医保版ICD-10 2.0中，忽略");
            }),
        }
    }
    for (i, code) in case.procedures.iter().map(|c| c.trim()).enumerate() {
        match px.get(code) {
            Some(id) if i == 0 && px.info[id as usize].grey => {
                trace.note(|s| {
                    let _ = write!(s, "主要手术{code}为灰码，不能作为主要手术");
                });
                return ungroupable(Reason::GreyMainProcedure);
            }
            Some(id) if px.info[id as usize].known => {
                r.procedures[r.n_procedures] = id;
                r.n_procedures += 1;
            }
            _ if i == 0 => {
                trace.note(|s| {
                    let _ = write!(s, "主要手术{code}不在医保版ICD-9-CM-3 2.0中");
                });
                return ungroupable(Reason::UnknownMainProcedure);
            }
            _ => trace.note(|s| {
                let _ = write!(s, "其他手术{code}不在医保版ICD-9-CM-3 2.0中，忽略");
            }),
        }
    }
    let main_is_or = r.main_procedure().is_some_and(|p| px.info[p as usize].operating_room);

    // 1–5. MDC, in the fixed order A, P, Y, Z, M, N, B…X.
    for &m in &tables.mdc_order {
        let mdc = &tables.mdcs[m];
        let entered = match mdc.letter {
            // Pre-MDC: entered only through one of its ADRGs.
            b'A' => {
                if let Some(&a) = mdc
                    .adrgs
                    .iter()
                    .find(|&&a| adrg_matches(tables, &tables.adrgs[a], case, &r, main_is_or))
                {
                    let adrg = &tables.adrgs[a];
                    trace.note(|s| {
                        let _ = write!(
                            s,
                            "先期分组：{}进入{} {}",
                            describe_procedures(case),
                            adrg.code,
                            adrg.name
                        );
                    });
                    return split(tables, adrg, &r, &mut trace);
                }
                continue;
            }
            _ if !contains(&mdc.principal, principal) => continue,
            b'P' => {
                if case.age_years != 0 {
                    trace.note(|s| {
                        let _ = write!(
                            s,
                            "主要诊断{principal_code}属于MDCP，但年龄{}岁不是新生儿",
                            case.age_years
                        );
                    });
                    continue;
                }
                true
            }
            b'Z' => {
                let regions = trauma_regions_covered(tables, &r);
                if !regions {
                    trace.note(|s| {
                        let _ = write!(s, "主要诊断{principal_code}属于MDCZ，但创伤未涉及两个及以上部位");
                    });
                }
                regions
            }
            b'M' if case.sex != Sex::Male => {
                trace.note(|s| {
                    let _ = write!(s, "主要诊断{principal_code}属于MDCM，但患者不是男性");
                });
                continue;
            }
            b'N' if case.sex != Sex::Female => {
                trace.note(|s| {
                    let _ = write!(s, "主要诊断{principal_code}属于MDCN，但患者不是女性");
                });
                continue;
            }
            _ => true,
        };
        if !entered {
            continue;
        }
        trace.note(|s| {
            let _ = write!(s, "主要诊断{principal_code}属于{}", mdc.code);
        });
        return group_in_mdc(tables, m, case, &r, main_is_or, &mut trace);
    }
    trace.note(|s| {
        let _ = write!(s, "主要诊断{principal_code}不属于任何MDC → 0000");
    });
    ungroupable(Reason::NoMdc)
}

fn describe_procedures(case: &Case) -> String {
    match case.procedures.first() {
        Some(p) => format!("主要手术{p}"),
        None => "无手术".to_owned(),
    }
}

/// MDCZ needs trauma in at least two different body regions, from two different diagnoses.
fn trauma_regions_covered(tables: &Tables, r: &Resolved) -> bool {
    let info = &tables.diagnoses.info;
    let mut masks = [0u16; MAX_DIAGNOSES];
    let mut n = 0;
    for &d in std::iter::once(&r.principal).chain(r.others()) {
        let m = info[d as usize].trauma_regions;
        if m != 0 {
            masks[n] = m;
            n += 1;
        }
    }
    let masks = &masks[..n];
    masks
        .iter()
        .enumerate()
        .any(|(i, a)| masks[i + 1..].iter().any(|b| (a | b).count_ones() >= 2))
}

fn adrg_matches(tables: &Tables, adrg: &Adrg, case: &Case, r: &Resolved, main_is_or: bool) -> bool {
    let rule = &adrg.rule;
    if let Some(set) = &rule.principal_diagnoses {
        if !contains(set, r.principal) {
            return false;
        }
    }
    if let Some(set) = &rule.any_diagnoses {
        if !r.any_diagnosis_in(set) {
            return false;
        }
    }
    if let Some((low, high)) = rule.birth_weight_g {
        match case.birth_weight_g {
            Some(w) if (low..=high).contains(&w) => {}
            _ => return false,
        }
    }
    if let Some((low, high)) = rule.age_days {
        match case.age_days {
            Some(d) if case.age_years == 0 && (low..=high).contains(&d) => {}
            _ => return false,
        }
    }
    if let Some(set) = &rule.main_procedures {
        match r.main_procedure() {
            Some(p) if contains(set, p) => {}
            _ => return false,
        }
    }
    if !rule.procedure_alternatives.is_empty()
        && !rule
            .procedure_alternatives
            .iter()
            .any(|alt| alt.iter().all(|&t| r.any_procedure_in(&rule.procedure_tables[t])))
    {
        return false;
    }
    if rule.any_or_procedure && !main_is_or {
        return false;
    }
    // "且无手术" (ZZ1): no operation of this ADRG's MDC. A procedure that only other MDCs'
    // surgical ADRGs list is no operation here: such a case fits no surgical ADRG of the MDC
    // and, in a scheme without ambiguity groups, is grouped by its diagnosis (see
    // `Mdc::ambiguity_group`).
    if rule.no_or_procedure
        && r.procedures()
            .iter()
            .any(|&p| tables.procedures.info[p as usize].surgical_mdcs & (1 << adrg.mdc) != 0)
    {
        return false;
    }
    true
}

fn group_in_mdc(
    tables: &Tables,
    m: usize,
    case: &Case,
    r: &Resolved,
    main_is_or: bool,
    trace: &mut Trace<'_>,
) -> Grouping {
    let mdc = &tables.mdcs[m];
    let mut checked_qy = false;
    for &a in &mdc.adrgs {
        let adrg = &tables.adrgs[a];
        if adrg.kind == AdrgKind::Medical && !checked_qy {
            checked_qy = true;
            if main_is_or {
                if let Some(qy) = ambiguous(mdc, case, trace) {
                    return qy;
                }
            }
        }
        if adrg_matches(tables, adrg, case, r, main_is_or) {
            trace.note(|s| {
                let _ = match adrg.kind {
                    AdrgKind::Medical => write!(s, "主要诊断{}进入ADRG {} {}", case.diagnoses[0], adrg.code, adrg.name),
                    _ => write!(s, "{}进入ADRG {} {}", describe_procedures(case), adrg.code, adrg.name),
                };
            });
            return split(tables, adrg, r, trace);
        }
    }
    if main_is_or && !checked_qy {
        if let Some(qy) = ambiguous(mdc, case, trace) {
            return qy;
        }
    }
    trace.note(|s| {
        let _ = write!(s, "未进入{}的任何ADRG → 0000", mdc.code);
    });
    outcome(Some(mdc.code), None, GroupCode::UNGROUPABLE, Reason::NoAdrg)
}

/// An operating-room main procedure that fits no surgical or procedure ADRG of the MDC. Where
/// the scheme has the MDC's ambiguity group (歧义组 `xQY`, CHS-DRG 2.0 and later), the case goes
/// there. CHS-DRG 1.1 publishes no such group: the case is then grouped by its principal
/// diagnosis among the MDC's medical ADRGs (`None` here), and the step says why.
fn ambiguous(mdc: &Mdc, case: &Case, trace: &mut Trace<'_>) -> Option<Grouping> {
    if !mdc.ambiguity_group {
        trace.note(|s| {
            let _ = write!(
                s,
                "{}为手术室手术，但不属于{}的任何手术ADRG；本方案未设{}QY歧义组，按主要诊断进入内科ADRG",
                describe_procedures(case),
                mdc.code,
                mdc.letter as char
            );
        });
        return None;
    }
    let qy = GroupCode::from_ascii(&[mdc.letter, b'Q', b'Y']);
    trace.note(|s| {
        let _ = write!(
            s,
            "{}为手术室手术，但不属于{}的任何手术ADRG → {qy}",
            describe_procedures(case),
            mdc.code
        );
    });
    Some(outcome(Some(mdc.code), None, qy, Reason::AmbiguousProcedure))
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    None,
    Cc,
    Mcc,
}

/// 7. DRG split by MCC/CC among the other diagnoses, minus the principal diagnosis's exclusions.
fn split(tables: &Tables, adrg: &Adrg, r: &Resolved, trace: &mut Trace<'_>) -> Grouping {
    let mdc = Some(tables.mdcs[adrg.mdc].code);
    let code = adrg.code.as_str().as_bytes();
    let drg = |suffix: u8| GroupCode::from_ascii(&[code[0], code[1], code[2], b'0' + suffix]);
    if adrg.splits & (1 << 9) != 0 {
        let d = drg(9);
        trace.note(|s| {
            let _ = write!(s, "{} 不按并发症细分 → {d}", adrg.code);
        });
        return outcome(mdc, Some(adrg.code), d, Reason::Grouped);
    }
    let dx = &tables.diagnoses;
    let mut severity = Severity::None;
    for &d in r.others() {
        if d == r.principal {
            continue;
        }
        let info = &dx.info[d as usize];
        for (level, table, label) in [(Severity::Mcc, info.mcc, "MCC"), (Severity::Cc, info.cc, "CC")] {
            let Some(table) = table else { continue };
            let excluded = tables
                .exclusions
                .get(table as usize)
                .is_some_and(|t| contains(&t.principal, r.principal));
            let name = tables.exclusion_name(table);
            if excluded {
                trace.note(|s| {
                    let _ = write!(
                        s,
                        "其他诊断{}为{label}，但被表{name}排除(主要诊断{}在表中)",
                        dx.codes[d as usize], dx.codes[r.principal as usize]
                    );
                });
            } else {
                trace.note(|s| {
                    let _ = write!(s, "其他诊断{}为{label}", dx.codes[d as usize]);
                    if !name.is_empty() {
                        let _ = write!(s, "(未被表{name}排除)");
                    }
                });
                severity = severity.max(level);
                break;
            }
        }
    }
    let has = |suffix: u8| adrg.splits & (1 << suffix) != 0;
    let suffix = match severity {
        Severity::Mcc if has(1) => 1,
        Severity::Mcc | Severity::Cc if has(3) => 3,
        _ if has(5) => 5,
        // Not reached with the published tables (every split ADRG has a 5); fall back to the mildest DRG.
        _ => [3, 1].into_iter().find(|&s| has(s)).unwrap_or(5),
    };
    let d = drg(suffix);
    trace.note(|s| {
        let _ = match severity {
            Severity::Mcc => write!(s, "伴严重并发症或合并症(MCC) → {d}"),
            Severity::Cc => write!(s, "伴并发症或合并症(CC) → {d}"),
            Severity::None => write!(s, "不伴并发症或合并症 → {d}"),
        };
    });
    outcome(mdc, Some(adrg.code), d, Reason::Grouped)
}
