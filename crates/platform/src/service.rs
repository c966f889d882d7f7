//! The platform's operations on visits and settlements, in domain terms. Each operation checks
//! everything before it changes anything, so that a refused request leaves no trace; then it
//! updates the caches and queues its writes in the batch in progress.

use chrono::{NaiveDate, NaiveDateTime};
use yibao_catalog::{split_line, Catalog, CatalogItem, LineContext, LineSplit};
use yibao_codes::{CareSetting, HospitalLevel, InsuranceType, MedicalType, SettlementField};
use yibao_money::{Money, Price, Quantity};
use yibao_policy::Policy;
use yibao_settle::{pre_settle, FeeLine, Person, SettleInput, Settlement, Visit, VISIT_LINES_MAX};
use yibao_store::{
    AccountEntryRecord, FeeLineRecord, SettlementRecord, SettlementStatus, VisitRecord, VisitStatus, WriteOp,
};

use crate::ids::IdGenerator;
use crate::ledger::settlement_postings;
use crate::state::{PersonEntry, State};
use crate::PlatformError;

/// The pooling region the platform serves: its policy versions and catalog, read-only.
pub struct Region {
    pub admdvs: String,
    pub versions: Vec<Policy>,
    pub catalog: Catalog,
    /// The contribution policy versions (缴费政策), each effective over its dates: enrolment,
    /// contribution runs and fund warnings need them; settlement does not.
    pub contribution: Vec<std::sync::Arc<yibao_enrol::ContributionPolicy>>,
    /// The supervision rule file versions (智能监控规则): which rules warn or refuse, by date.
    /// Empty: no rule runs (the knowledge base imported with `yibao monitor import` is not
    /// enough by itself; the region decides what each rule does).
    pub monitor: Vec<yibao_monitor::MonitorPolicy>,
}

impl Region {
    /// The contribution policy version in force on `date`.
    pub fn contribution_on(&self, date: NaiveDate) -> Result<&yibao_enrol::ContributionPolicy, PlatformError> {
        if self.contribution.is_empty() {
            return Err(PlatformError::rule(
                "本统筹区未配置缴费政策文件(--contribution-policy)".into(),
            ));
        }
        self.contribution
            .iter()
            .rev()
            .find(|p| p.is_effective_on(date))
            .map(|p| p.as_ref())
            .ok_or_else(|| PlatformError::rule(format!("{date}没有生效的缴费政策版本")))
    }

    /// The supervision rule file in force on `date`, if the region has one.
    pub fn monitor_on(&self, date: NaiveDate) -> Option<&yibao_monitor::MonitorPolicy> {
        self.monitor.iter().rev().find(|p| p.is_effective_on(date))
    }

    pub fn policy_on(&self, date: NaiveDate) -> Result<&Policy, PlatformError> {
        yibao_policy::version_on(&self.versions, date)
            .ok_or_else(|| PlatformError::rule(format!("{date}没有生效的待遇政策版本")))
    }
}

/// What every operation knows about the request it serves.
pub struct Ctx<'a> {
    pub region: &'a Region,
    pub ids: &'a IdGenerator,
    pub now: NaiveDateTime,
    /// The calling institution (`fixmedins_code`), authenticated by the server.
    pub institution: &'a str,
    pub msgid: &'a str,
    /// The transaction code as sent (`1301`, `2203A`): some transactions share one input type.
    pub infno: &'a str,
}

/// A fee line as uploaded.
#[derive(Clone, Debug)]
pub struct NewFeeLine {
    pub sn: String,
    pub batch_no: String,
    pub code: String,
    pub local_code: String,
    pub quantity: Quantity,
    pub price: Price,
    pub amount: Money,
    pub occurred_at: NaiveDateTime,
    pub disease_code: Option<String>,
    pub refund_of: Option<String>,
}

/// The split of an uploaded line, for the 2204/2301 answer.
pub struct SplitLine {
    pub sn: String,
    pub split: LineSplit,
    pub item: CatalogItem,
}

/// Refuses an institution suspended by a confirmed case (暂停医保服务): no insured visit is
/// registered or settled there until the suspension ends.
pub fn check_serving(state: &mut State, ctx: &Ctx) -> Result<(), PlatformError> {
    match state.suspension(ctx.institution, ctx.now)? {
        Some((until, case_id)) => Err(PlatformError::rule(format!(
            "定点医药机构{}因医保违规(案件{case_id})被暂停医保服务至{}, 期间不能办理医保就诊和结算",
            ctx.institution,
            until.date()
        ))),
        None => Ok(()),
    }
}

pub fn hospital_level(state: &State, institution: &str) -> Result<HospitalLevel, PlatformError> {
    let record = state
        .institutions
        .get(institution)
        .ok_or_else(|| PlatformError::field("fixmedins_code", format!("定点医药机构{institution}未登记")))?;
    HospitalLevel::from_hosp_lv(&record.hosp_lv)
        .map_err(|e| PlatformError::internal(format!("机构{institution}的医院等级无效: {e}")))
}

fn person_entry<'s>(state: &'s mut State, person_no: &str) -> Result<&'s mut PersonEntry, PlatformError> {
    state
        .person(person_no)?
        .ok_or_else(|| PlatformError::field("psn_no", format!("人员编号{person_no}不存在")))
}

/// Registers a visit (2201 outpatient, 2401 admission).
#[allow(clippy::too_many_arguments)]
pub fn register(
    state: &mut State,
    ctx: &Ctx,
    person_no: &str,
    insurance: InsuranceType,
    medical_type: MedicalType,
    begin_time: NaiveDateTime,
    his_visit_no: &str,
    diagnosis_code: Option<String>,
    doctor: &str,
) -> Result<VisitRecord, PlatformError> {
    hospital_level(state, ctx.institution)?;
    check_serving(state, ctx)?;
    let person = &person_entry(state, person_no)?.record;
    if person.insurance != insurance {
        return Err(PlatformError::field(
            "insutype",
            format!("参保人参加的险种为{},不是{}", person.insurance.code(), insurance.code()),
        ));
    }
    if person.status != "1" {
        // Enrolment says why, when it knows the person (a region's own enrolment records).
        let certno = person.certno.clone();
        let status = person.status.clone();
        let why = crate::enrolment::not_covered_reason(state, &certno, insurance, begin_time.date())?;
        return Err(PlatformError::rule(match why {
            Some(reason) => format!("参保人不能享受待遇: {reason}"),
            None => format!("参保人参保状态为{status}(非正常参保),不能办理就诊登记"),
        }));
    }
    if begin_time.date() < person.birth_date {
        return Err(PlatformError::field("begntime", "就诊时间早于出生日期".into()));
    }
    not_in_future(ctx, "begntime", begin_time, "就诊时间")?;
    let record = VisitRecord {
        visit_id: ctx.ids.issue('M'),
        person_no: person_no.to_owned(),
        institution: ctx.institution.to_owned(),
        insurance,
        medical_type,
        begin_time,
        end_time: None,
        his_visit_no: his_visit_no.to_owned(),
        disease_code: None,
        diagnosis_code,
        status: VisitStatus::Registered,
        in_county: true,
        doctor: Some(doctor.to_owned()).filter(|d| !d.trim().is_empty()),
    };
    state.insert_visit(record.clone());
    Ok(record)
}

/// Finds a visit of the calling institution for this person, or explains why not.
fn own_visit<'s>(
    state: &'s mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
) -> Result<&'s mut crate::state::VisitEntry, PlatformError> {
    let entry = state
        .visit(visit_id)?
        .ok_or_else(|| PlatformError::field("mdtrt_id", format!("就诊ID{visit_id}不存在")))?;
    // An institution sees only its own visits: another's visit is reported as not found.
    if entry.record.institution != ctx.institution {
        return Err(PlatformError::field("mdtrt_id", format!("就诊ID{visit_id}不存在")));
    }
    if entry.record.person_no != person_no {
        return Err(PlatformError::field(
            "psn_no",
            format!("人员编号{person_no}与就诊ID{visit_id}不匹配"),
        ));
    }
    Ok(entry)
}

/// Cancels a registration or admission (2202, 2404): only with no settlement in force.
pub fn cancel_visit(state: &mut State, ctx: &Ctx, visit_id: &str, person_no: &str) -> Result<(), PlatformError> {
    let entry = own_visit(state, ctx, visit_id, person_no)?;
    match entry.record.status {
        VisitStatus::Registered | VisitStatus::Discharged => {}
        VisitStatus::Settled => return Err(PlatformError::rule("就诊已结算,请先撤销结算".into())),
        VisitStatus::Cancelled => return Err(PlatformError::rule("就诊已撤销".into())),
    }
    if entry.lines.iter().any(|l| l.settlement_id.is_some()) {
        return Err(PlatformError::rule("就诊有已结算的费用(中途结算),请先撤销结算".into()));
    }
    entry.record.status = VisitStatus::Cancelled;
    let record = entry.record.clone();
    state.pending.push(WriteOp::UpdateVisit(record));
    Ok(())
}

/// Updates the visit information (2203, 2403).
#[allow(clippy::too_many_arguments)]
pub fn update_visit(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
    medical_type: Option<MedicalType>,
    begin_time: Option<NaiveDateTime>,
    disease_code: Option<String>,
    diagnosis_code: Option<String>,
) -> Result<(), PlatformError> {
    let entry = own_visit(state, ctx, visit_id, person_no)?;
    if entry.record.status != VisitStatus::Registered {
        return Err(PlatformError::rule(format!(
            "就诊状态为{},不能修改就诊信息",
            status_zh(entry.record.status)
        )));
    }
    if let Some(t) = medical_type {
        if t.setting() != entry.record.medical_type.setting() && entry.lines.iter().any(|_| true) {
            return Err(PlatformError::field(
                "med_type",
                "已上传费用后不能在门诊与住院类别间变更".into(),
            ));
        }
        entry.record.medical_type = t;
    }
    if let Some(t) = begin_time {
        not_in_future(ctx, "begntime", t, "就诊时间")?;
        entry.record.begin_time = t;
    }
    if disease_code.is_some() {
        entry.record.disease_code = disease_code;
    }
    if diagnosis_code.is_some() {
        entry.record.diagnosis_code = diagnosis_code;
    }
    let record = entry.record.clone();
    state.pending.push(WriteOp::UpdateVisit(record));
    Ok(())
}

fn status_zh(status: VisitStatus) -> &'static str {
    match status {
        VisitStatus::Registered => "在诊",
        VisitStatus::Discharged => "已出院",
        VisitStatus::Settled => "已结算",
        VisitStatus::Cancelled => "已撤销",
    }
}

/// Records a discharge (2402) or undoes one (2405).
pub fn discharge(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
    end_time: Option<NaiveDateTime>,
) -> Result<(), PlatformError> {
    let entry = own_visit(state, ctx, visit_id, person_no)?;
    if entry.record.medical_type.setting() != CareSetting::Inpatient {
        return Err(PlatformError::rule("门诊就诊不需要办理出院".into()));
    }
    match (end_time, entry.record.status) {
        (Some(end), VisitStatus::Registered) => {
            if end < entry.record.begin_time {
                return Err(PlatformError::field("endtime", "出院时间早于入院时间".into()));
            }
            entry.record.end_time = Some(end);
            entry.record.status = VisitStatus::Discharged;
        }
        (None, VisitStatus::Discharged) => {
            entry.record.end_time = None;
            entry.record.status = VisitStatus::Registered;
        }
        (Some(_), s) | (None, s) => {
            return Err(PlatformError::rule(format!("就诊状态为{},不能办理", status_zh(s))));
        }
    }
    let record = entry.record.clone();
    state.pending.push(WriteOp::UpdateVisit(record));
    Ok(())
}

/// How far ahead of the platform's clock a time sent by an institution may be: HIS clocks drift,
/// and the gateways accept signatures within the same five minutes.
pub const CLOCK_AHEAD_SECONDS_MAX: i64 = 300;

/// Refuses a time that has not come yet (beyond the clocks' drift): a visit or a fee cannot
/// happen in the future, and a future date would move it into a later period or policy.
fn not_in_future(ctx: &Ctx, field: &str, at: NaiveDateTime, what: &str) -> Result<(), PlatformError> {
    if at > ctx.now + chrono::Duration::seconds(CLOCK_AHEAD_SECONDS_MAX) {
        return Err(PlatformError::field(
            field,
            format!(
                "{what}{}晚于当前时间{}",
                at.format("%Y-%m-%d %H:%M:%S"),
                ctx.now.format("%Y-%m-%d %H:%M:%S")
            ),
        ));
    }
    Ok(())
}

/// Uploads fee lines (2204, 2301) and answers each line's split.
pub fn upload_lines(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
    lines: Vec<NewFeeLine>,
) -> Result<Vec<SplitLine>, PlatformError> {
    let level = hospital_level(state, ctx.institution)?;
    let person = person_entry(state, person_no)?.record.clone();
    let catalog = &ctx.region.catalog;
    let rounding = ctx
        .region
        .policy_on(ctx.now.date())
        .map_or(yibao_money::Rounding::HalfUp, |p| p.rounding);
    let entry = own_visit(state, ctx, visit_id, person_no)?;
    match entry.record.status {
        VisitStatus::Registered => {}
        s => {
            return Err(PlatformError::rule(format!(
                "就诊状态为{},不能上传费用明细",
                status_zh(s)
            )))
        }
    }
    if entry.lines.len() + lines.len() > VISIT_LINES_MAX {
        return Err(PlatformError::field(
            "feedetail",
            format!("本次就诊费用明细将超过{VISIT_LINES_MAX}条上限"),
        ));
    }
    let inpatient = entry.record.medical_type.setting() == CareSetting::Inpatient;
    let context = LineContext {
        sex: person.sex,
        age_years: yibao_settle::age_years(person.birth_date, entry.record.begin_time.date()),
        level,
        inpatient,
        insurance: person.insurance,
        rounding,
    };
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let at = |name: &str| format!("feedetail[{i}].{name}");
        let item = catalog
            .get(&line.code)
            .ok_or_else(|| PlatformError::field(&at("med_list_codg"), format!("医保目录中没有编码“{}”", line.code)))?;
        if entry.lines.iter().any(|l| l.sn == line.sn) || lines[..i].iter().any(|l| l.sn == line.sn) {
            return Err(PlatformError::field(
                &at("feedetl_sn"),
                format!("费用明细流水号{}重复", line.sn),
            ));
        }
        if line.quantity.ten_thousandths() == 0 {
            return Err(PlatformError::field(&at("cnt"), "数量不能为0".into()));
        }
        not_in_future(ctx, &at("fee_ocur_time"), line.occurred_at, "费用发生时间")?;
        let computed = Money::from_price_quantity(line.price, line.quantity, rounding);
        if computed != line.amount {
            return Err(PlatformError::field(
                &at("det_item_fee_sumamt"),
                format!(
                    "明细金额{}与单价×数量={}×{}={computed}不符",
                    line.amount, line.price, line.quantity
                ),
            ));
        }
        if line.occurred_at.date() < entry.record.begin_time.date() {
            return Err(PlatformError::field(
                &at("fee_ocur_time"),
                "费用发生时间早于就诊时间".into(),
            ));
        }
        let split = if line.quantity.ten_thousandths() < 0 {
            // A refund must name the line it refunds, of the same item, and not exceed it.
            let Some(original_sn) = &line.refund_of else {
                return Err(PlatformError::field(
                    &at("init_feedetl_sn"),
                    "数量为负(退费)时必须填写原费用流水号".into(),
                ));
            };
            let original = entry.lines.iter().find(|l| &l.sn == original_sn).ok_or_else(|| {
                PlatformError::field(&at("init_feedetl_sn"), format!("原费用流水号{original_sn}不存在"))
            })?;
            if original.code != line.code || original.settlement_id.is_some() {
                return Err(PlatformError::field(
                    &at("init_feedetl_sn"),
                    "退费明细须对应同一项目的未结算明细".into(),
                ));
            }
            // Refunds already stored, and those earlier in this upload.
            let refunded: i64 = entry
                .lines
                .iter()
                .map(|l| (l.refund_of.as_deref(), l.quantity))
                .chain(lines[..i].iter().map(|l| (l.refund_of.as_deref(), l.quantity)))
                .filter(|(of, _)| *of == Some(original_sn.as_str()))
                .map(|(_, quantity)| quantity.ten_thousandths())
                .sum();
            if original.quantity.ten_thousandths() + refunded + line.quantity.ten_thousandths() < 0 {
                return Err(PlatformError::field(&at("cnt"), "退费数量超过原明细数量".into()));
            }
            // The refunded quantity's split, negated: the parts add up to the (negative) amount.
            let refund = Quantity::from_ten_thousandths(-line.quantity.ten_thousandths());
            let s = split_line(item, -line.amount, line.price, refund, 1, &context);
            LineSplit {
                amount: line.amount,
                full_self_pay: -s.full_self_pay,
                over_cap: -s.over_cap,
                first_self_pay: -s.first_self_pay,
                policy_scope: -s.policy_scope,
                ..s
            }
        } else {
            split_line(item, line.amount, line.price, line.quantity, 1, &context)
        };
        out.push(SplitLine {
            sn: line.sn.clone(),
            split,
            item: item.clone(),
        });
    }
    let records: Vec<FeeLineRecord> = lines
        .into_iter()
        .map(|l| FeeLineRecord {
            visit_id: visit_id.to_owned(),
            sn: l.sn,
            batch_no: l.batch_no,
            code: l.code,
            local_code: l.local_code,
            quantity: l.quantity,
            price: l.price,
            amount: l.amount,
            occurred_at: l.occurred_at,
            disease_code: l.disease_code,
            refund_of: l.refund_of,
            settlement_id: None,
        })
        .collect();
    entry.lines.extend(records.iter().cloned());
    state.pending.push(WriteOp::InsertFeeLines(records));
    Ok(out)
}

/// Deletes unsettled lines (2205 by batch, 2302 by line; "0000" for all).
pub fn delete_lines(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
    selector: LineSelector,
) -> Result<usize, PlatformError> {
    let entry = own_visit(state, ctx, visit_id, person_no)?;
    if entry.record.status != VisitStatus::Registered {
        return Err(PlatformError::rule(format!(
            "就诊状态为{},不能撤销费用明细",
            status_zh(entry.record.status)
        )));
    }
    let chosen: Vec<String> = entry
        .lines
        .iter()
        .filter(|l| l.settlement_id.is_none())
        .filter(|l| match &selector {
            LineSelector::All => true,
            LineSelector::Batch(b) => &l.batch_no == b,
            LineSelector::Line(sn) => &l.sn == sn || l.refund_of.as_ref() == Some(sn),
        })
        .map(|l| l.sn.clone())
        .collect();
    if chosen.is_empty() {
        return Err(PlatformError::rule("没有可撤销的未结算费用明细".into()));
    }
    entry.lines.retain(|l| !chosen.contains(&l.sn));
    let ops: Vec<WriteOp> = chosen
        .iter()
        .map(|sn| WriteOp::DeleteFeeLines {
            visit_id: visit_id.to_owned(),
            sn: Some(sn.clone()),
        })
        .collect();
    let count = ops.len();
    for op in ops {
        state.pending.push(op);
    }
    Ok(count)
}

pub enum LineSelector {
    All,
    Batch(String),
    Line(String),
}

/// What a settlement request asks for.
pub struct SettleRequest<'a> {
    pub visit_id: &'a str,
    pub person_no: &'a str,
    /// The insurance type the HIS settles under (`insutype`); must be the visit's.
    pub insurance: Option<InsuranceType>,
    pub medical_type: Option<MedicalType>,
    pub use_account: bool,
    /// The HIS's own total (`medfee_sumamt`); it must equal the platform's.
    pub expected_total: Option<Money>,
    /// Pre-settlement (2206/2303): compute only.
    pub preview: bool,
    /// Interim settlement of a continuing stay (`mid_setl_flag`).
    pub interim: bool,
}

/// A computed settlement with what it was computed from.
pub struct Settled {
    pub settlement: Settlement,
    pub settlement_id: String,
    pub visit: VisitRecord,
    pub person: yibao_store::PersonRecord,
    pub policy_id: String,
    pub inputs_json: String,
}

/// Pre-settles or settles a visit (2206/2207, 2303/2304). `render` produces the stored answer
/// (`setlinfo` + `setldetail`) for a settlement.
pub fn settle(
    state: &mut State,
    ctx: &Ctx,
    request: &SettleRequest,
    render: &dyn Fn(&Settled) -> String,
) -> Result<Settled, PlatformError> {
    let level = hospital_level(state, ctx.institution)?;
    check_serving(state, ctx)?;
    let entry = own_visit(state, ctx, request.visit_id, request.person_no)?;
    let inpatient = entry.record.medical_type.setting() == CareSetting::Inpatient;
    match entry.record.status {
        VisitStatus::Registered if !inpatient || request.interim || request.preview => {}
        VisitStatus::Registered => {
            return Err(PlatformError::rule(
                "住院结算前须先办理出院(中途结算请置mid_setl_flag=1)".into(),
            ))
        }
        VisitStatus::Discharged => {}
        s => return Err(PlatformError::rule(format!("就诊状态为{},不能结算", status_zh(s)))),
    }
    if let Some(t) = request.medical_type {
        if t.setting() != entry.record.medical_type.setting() {
            return Err(PlatformError::field(
                "med_type",
                format!(
                    "医疗类别{}与就诊登记的{}不符",
                    t.code(),
                    entry.record.medical_type.code()
                ),
            ));
        }
    }
    if let Some(insurance) = request.insurance {
        if insurance != entry.record.insurance {
            return Err(PlatformError::field(
                "insutype",
                format!(
                    "险种{}与就诊登记的险种{}不符",
                    insurance.code(),
                    entry.record.insurance.code()
                ),
            ));
        }
    }
    let medical_type = request.medical_type.unwrap_or(entry.record.medical_type);
    let visit_record = entry.record.clone();
    let (lines, times) = net_lines(&entry.lines, &visit_record);
    if lines.is_empty() {
        return Err(PlatformError::rule("没有未结算的费用明细".into()));
    }
    let begin_date = visit_record.begin_time.date();
    let mut visit = Visit {
        visit_id: visit_record.visit_id.clone(),
        medical_type,
        level,
        begin_date,
        end_date: visit_record
            .end_time
            .map(|t| t.date())
            .or(inpatient.then_some(ctx.now.date())),
        in_county: visit_record.in_county,
        referred: true,
        use_account: request.use_account,
        lines,
    };
    let policy = ctx.region.policy_on(begin_date)?;
    let person = person_entry(state, request.person_no)?;
    let record = person.record.clone();
    let person = Person {
        person_no: record.person_no.clone(),
        insurance: record.insurance,
        person_type: record.person_type,
        sex: record.sex,
        birth_date: record.birth_date,
        tier: record.tier,
        groups: record.groups.clone(),
        civil_servant: record.civil_servant,
        chronic_diseases: person
            .filings
            .iter()
            .filter(|f| f.active && f.begin_date <= begin_date && f.end_date.is_none_or(|e| e >= begin_date))
            .map(|f| f.disease_code.clone())
            .collect(),
        benefits_from: record.benefits_from,
    };
    // The region's supervision rules: refused amounts go to self-pay (and are recorded with the
    // inputs, so a recompute refuses the same).
    crate::monitor::review_for_settlement(state, ctx, &record, level, &mut visit, &times, policy.rounding)?;
    let year = policy.insurance_year(begin_date);
    let ytd = state.year_to_date(request.person_no, year)?.clone();
    // A bound family member's account (家庭共济) is read only when the account may be used:
    // most visits never touch it.
    let family_account = match (&record.family_payer, request.use_account) {
        (Some(payer), true) => Some(FamilyAccountInput {
            payer: payer.clone(),
            balance: state
                .person(payer)?
                .ok_or_else(|| PlatformError::internal(format!("共济账户所属人员{payer}不存在")))?
                .record
                .account_balance,
        }),
        _ => None,
    };
    let input = SettleInput {
        policy,
        catalog: &ctx.region.catalog,
        person: &person,
        ytd: &ytd,
        account_balance: record.account_balance,
        family_account_balance: family_account.as_ref().map_or(Money::ZERO, |f| f.balance),
        visit: &visit,
    };
    let settlement = pre_settle(&input).map_err(|e| PlatformError::field(e.field(), e.to_string()))?;
    if let Some(expected) = request.expected_total {
        if expected != settlement.total {
            return Err(PlatformError::field(
                "medfee_sumamt",
                format!("医疗费总额{expected}与已上传明细合计{}不符", settlement.total),
            ));
        }
    }
    let inputs_json = serde_json::to_string(&StoredInputs {
        person: person.clone(),
        ytd: ytd.clone(),
        account_balance: record.account_balance,
        family_account: family_account.clone(),
        visit: visit.clone(),
    })
    .map_err(|e| PlatformError::internal(format!("结算输入无法记录: {e}")))?;
    let settled = Settled {
        settlement_id: if request.preview {
            String::new()
        } else {
            ctx.ids.issue('S')
        },
        settlement,
        visit: visit_record,
        person: record,
        policy_id: policy.id(),
        inputs_json,
    };
    if request.preview {
        return Ok(settled);
    }

    // Apply: accumulators, account, lines, visit, settlement, postings — one batch.
    let s = &settled.settlement;
    let ytd = state.year_to_date(request.person_no, year)?;
    ytd.apply(&s.deltas);
    let values: Vec<_> = s
        .deltas
        .accumulators
        .iter()
        .map(|(key, _)| (key.clone(), ytd.get(key)))
        .collect();
    for (key, value) in values {
        state.pending.push(WriteOp::SetAccumulator {
            person_no: request.person_no.to_owned(),
            year,
            key,
            value,
        });
    }
    move_account(
        state,
        ctx,
        request.person_no,
        -s.account_pay,
        "payment",
        &settled.settlement_id,
        None,
    )?;
    if !s.mutual_aid_pay.is_zero() {
        // The engine pays mutual aid only from a bound account: without one, the settlement
        // itself is wrong, and the process stops rather than book it.
        let Some(family) = family_account.as_ref() else {
            unreachable!("mutual aid paid without a bound account");
        };
        let payer = &family.payer;
        move_account(
            state,
            ctx,
            payer,
            -s.mutual_aid_pay,
            "family_payment",
            &settled.settlement_id,
            Some(request.person_no),
        )?;
    }
    let Some(entry) = state.visit(request.visit_id)? else {
        unreachable!("the visit settled was loaded above");
    };
    let mut sns = Vec::new();
    for line in entry.lines.iter_mut().filter(|l| l.settlement_id.is_none()) {
        line.settlement_id = Some(settled.settlement_id.clone());
        sns.push(line.sn.clone());
    }
    if !request.interim {
        entry.record.status = VisitStatus::Settled;
    }
    let visit_update = entry.record.clone();
    let record = SettlementRecord {
        settlement_id: settled.settlement_id.clone(),
        visit_id: request.visit_id.to_owned(),
        person_no: request.person_no.to_owned(),
        institution: ctx.institution.to_owned(),
        insurance: settled.person.insurance,
        medical_type,
        clearing_type: clearing_type(medical_type).to_owned(),
        settled_at: ctx.now,
        msgid: ctx.msgid.to_owned(),
        policy_id: settled.policy_id.clone(),
        year,
        total: s.total,
        fund_total: s.fund_total,
        account_pay: s.account_pay,
        cash_pay: s.cash_pay,
        mutual_aid_pay: s.mutual_aid_pay,
        status: SettlementStatus::Settled,
        cancelled_at: None,
        cancel_msgid: None,
        output_json: render(&settled),
        inputs_json: settled.inputs_json.clone(),
        deltas_json: serde_json::to_string(&s.deltas)
            .unwrap_or_else(|e| unreachable!("settlement deltas always serialize: {e}")),
    };
    state.insert_settlement(record);
    // Lines and postings reference the settlement, so they follow it in the batch.
    state.pending.push(WriteOp::MarkFeeLinesSettled {
        visit_id: request.visit_id.to_owned(),
        settlement_id: Some(settled.settlement_id.clone()),
        sns,
    });
    state.pending.push(WriteOp::UpdateVisit(visit_update));
    let postings = settlement_postings(s, &settled.settlement_id, &settled.settlement_id, ctx.now, false);
    state.pending.push(WriteOp::InsertLedger(postings));
    debug_assert_eq!(s.field_total(SettlementField::PersonalAccount), Money::ZERO);
    Ok(settled)
}

/// Moves a person's account balance by `amount` (negative when it pays) and queues the new
/// balance and, for a nonzero amount, the history entry naming the business record and, for
/// family mutual aid, the member paid for.
fn move_account(
    state: &mut State,
    ctx: &Ctx,
    person_no: &str,
    amount: Money,
    kind: &str,
    reference: &str,
    counterparty: Option<&str>,
) -> Result<(), PlatformError> {
    let person = person_entry(state, person_no)?;
    person.record.account_balance += amount;
    let balance = person.record.account_balance;
    assert!(!balance.is_negative(), "an account never goes negative");
    state.pending.push(WriteOp::SetAccountBalance {
        person_no: person_no.to_owned(),
        balance,
    });
    if !amount.is_zero() {
        state
            .pending
            .push(WriteOp::InsertAccountEntries(vec![AccountEntryRecord {
                entry_id: ctx.ids.issue('A'),
                person_no: person_no.to_owned(),
                posted_at: ctx.now,
                kind: kind.to_owned(),
                amount,
                balance_after: balance,
                reference: reference.to_owned(),
                counterparty: counterparty.map(str::to_owned),
            }]));
    }
    Ok(())
}

/// What a settlement was computed from, as stored with it (`inputs_json`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredInputs {
    pub person: Person,
    pub ytd: yibao_settle::YearToDate,
    pub account_balance: Money,
    /// The bound family member's account the settlement could draw on (家庭共济); absent in
    /// settlements stored before mutual aid, and when none was bound or the account unused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_account: Option<FamilyAccountInput>,
    pub visit: Visit,
}

/// A family member's account as a settlement saw it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyAccountInput {
    /// The account owner's `person_no`.
    pub payer: String,
    pub balance: Money,
}

/// Recomputes a stored settlement from its stored inputs with the policy version that produced
/// it (platform.md §4: "a settlement can be recomputed from what was stored … if the policy file
/// changed since, the stored version still decides").
pub fn recompute(record: &SettlementRecord, region: &Region) -> Result<Settlement, PlatformError> {
    let inputs: StoredInputs = serde_json::from_str(&record.inputs_json)
        .map_err(|e| PlatformError::internal(format!("结算{}的输入无法解读: {e}", record.settlement_id)))?;
    let policy = region
        .versions
        .iter()
        .find(|p| p.id() == record.policy_id)
        .ok_or_else(|| {
            PlatformError::internal(format!(
                "结算{}所用的政策版本{}未加载",
                record.settlement_id, record.policy_id
            ))
        })?;
    let input = SettleInput {
        policy,
        catalog: &region.catalog,
        person: &inputs.person,
        ytd: &inputs.ytd,
        account_balance: inputs.account_balance,
        family_account_balance: inputs.family_account.as_ref().map_or(Money::ZERO, |f| f.balance),
        visit: &inputs.visit,
    };
    pre_settle(&input).map_err(|e| PlatformError::internal(format!("结算{}无法重算: {e}", record.settlement_id)))
}

/// One stored settlement as a bureau reads it (admin API): its amounts, each line's split with
/// any supervision refusal, and its explanation, recomputed from the recorded inputs with the
/// policy version that produced it.
pub fn settlement_view(
    state: &mut State,
    region: &Region,
    settlement_id: &str,
) -> Result<serde_json::Value, PlatformError> {
    let record = state
        .settlement(settlement_id)?
        .ok_or_else(|| PlatformError::field("setl_id", format!("结算ID{settlement_id}不存在")))?
        .clone();
    let settlement = recompute(&record, region)?;
    let policy = region
        .versions
        .iter()
        .find(|p| p.id() == record.policy_id)
        .ok_or_else(|| PlatformError::internal(format!("政策版本{}未加载", record.policy_id)))?;
    let inputs: StoredInputs = serde_json::from_str(&record.inputs_json)
        .map_err(|e| PlatformError::internal(format!("结算{settlement_id}的输入无法解读: {e}")))?;
    let lines: Vec<serde_json::Value> = settlement
        .lines
        .iter()
        .zip(&inputs.visit.lines)
        .map(|(l, input)| {
            serde_json::json!({
                "sn": l.sn, "code": l.code, "amount": l.split.amount,
                "full_self_pay": l.split.full_self_pay, "over_cap": l.split.over_cap,
                "first_self_pay": l.split.first_self_pay, "policy_scope": l.split.policy_scope,
                "reason": l.split.reason.map(|r| r.text_zh()),
                "refusal": input.refusal.as_ref().map(|r| serde_json::json!({
                    "rule_id": r.rule_id, "rule_name": r.rule_name, "text": r.text, "amount": r.amount,
                })),
            })
        })
        .collect();
    Ok(serde_json::json!({
        "settlement_id": record.settlement_id,
        "visit_id": record.visit_id,
        "person_no": record.person_no,
        "institution": record.institution,
        "settled_at": record.settled_at,
        "status": record.status.code(),
        "policy": record.policy_id,
        "total": record.total,
        "fund_total": record.fund_total,
        "account_pay": record.account_pay,
        "cash_pay": record.cash_pay,
        "lines": lines,
        "explanation": settlement.explain(policy),
    }))
}

/// 清算类别 for a medical type.
pub fn clearing_type(medical_type: MedicalType) -> &'static str {
    match medical_type.setting() {
        CareSetting::Outpatient => "11",
        CareSetting::Inpatient => "21",
        CareSetting::Pharmacy => "41",
    }
}

/// The unsettled lines of a visit as the engine sees them: refunds netted against the lines
/// they refund, fully refunded lines dropped.
fn net_lines(lines: &[FeeLineRecord], visit: &VisitRecord) -> (Vec<FeeLine>, Vec<NaiveDateTime>) {
    let mut out: Vec<FeeLine> = Vec::new();
    // When each line was given (the supervision rules count by day and hour).
    let mut times: Vec<NaiveDateTime> = Vec::new();
    for line in lines
        .iter()
        .filter(|l| l.settlement_id.is_none() && l.refund_of.is_none())
    {
        let refunded: i64 = lines
            .iter()
            .filter(|r| r.settlement_id.is_none() && r.refund_of.as_deref() == Some(line.sn.as_str()))
            .map(|r| r.quantity.ten_thousandths())
            .sum();
        let quantity = Quantity::from_ten_thousandths(line.quantity.ten_thousandths() + refunded);
        if quantity.ten_thousandths() <= 0 {
            continue;
        }
        times.push(line.occurred_at.max(visit.begin_time));
        out.push(FeeLine {
            sn: line.sn.clone(),
            code: line.code.clone(),
            quantity,
            price: line.price,
            amount: None,
            date: Some(line.occurred_at.date().max(visit.begin_time.date())),
            disease: line.disease_code.clone().or_else(|| visit.disease_code.clone()),
            refusal: None,
        });
    }
    (out, times)
}

/// Cancels a settlement in force (2208, 2305, and 2601 for a settlement), restoring every
/// accumulator and the account exactly and posting the opposite entries.
pub fn cancel_settlement(
    state: &mut State,
    ctx: &Ctx,
    settlement_id: &str,
    visit_id: Option<&str>,
    person_no: &str,
) -> Result<SettlementRecord, PlatformError> {
    let record = state
        .settlement(settlement_id)?
        .ok_or_else(|| PlatformError::field("setl_id", format!("结算ID{settlement_id}不存在")))?
        .clone();
    if record.institution != ctx.institution {
        return Err(PlatformError::field("setl_id", format!("结算ID{settlement_id}不存在")));
    }
    if record.person_no != person_no {
        return Err(PlatformError::field(
            "psn_no",
            format!("人员编号{person_no}与结算ID不匹配"),
        ));
    }
    if visit_id.is_some_and(|v| v != record.visit_id) {
        return Err(PlatformError::field("mdtrt_id", "就诊ID与结算ID不匹配".into()));
    }
    if record.status == SettlementStatus::Cancelled {
        return Err(PlatformError::rule(format!("结算{settlement_id}已撤销")));
    }
    let deltas: yibao_settle::Deltas = serde_json::from_str(&record.deltas_json)
        .map_err(|e| PlatformError::internal(format!("结算{settlement_id}的累计变化无法解读: {e}")))?;
    // The family account a mutual-aid payment came from is refunded, whoever it is bound to now.
    let mutual_aid_payer = if record.mutual_aid_pay.is_zero() {
        None
    } else {
        let inputs: StoredInputs = serde_json::from_str(&record.inputs_json)
            .map_err(|e| PlatformError::internal(format!("结算{settlement_id}的输入无法解读: {e}")))?;
        let payer = inputs
            .family_account
            .ok_or_else(|| PlatformError::internal(format!("结算{settlement_id}有共济支付但没有记录共济账户")))?
            .payer;
        person_entry(state, &payer)?;
        Some(payer)
    };
    // The opposite postings are built while checking: nothing may fail once state changes.
    let ledger = reversal_postings(&record, ctx)?;
    // Everything checked: apply the inverse.
    let inverse = deltas.inverse();
    let ytd = state.year_to_date(person_no, record.year)?;
    ytd.apply(&inverse);
    let values: Vec<_> = inverse
        .accumulators
        .iter()
        .map(|(key, _)| (key.clone(), ytd.get(key)))
        .collect();
    for (key, value) in values {
        state.pending.push(WriteOp::SetAccumulator {
            person_no: person_no.to_owned(),
            year: record.year,
            key,
            value,
        });
    }
    move_account(
        state,
        ctx,
        person_no,
        record.account_pay,
        "reversal",
        settlement_id,
        None,
    )?;
    if let Some(payer) = mutual_aid_payer {
        move_account(
            state,
            ctx,
            &payer,
            record.mutual_aid_pay,
            "reversal",
            settlement_id,
            Some(person_no),
        )?;
    }
    if let Some(entry) = state.visit(&record.visit_id)? {
        let mut sns = Vec::new();
        for line in entry
            .lines
            .iter_mut()
            .filter(|l| l.settlement_id.as_deref() == Some(settlement_id))
        {
            line.settlement_id = None;
            sns.push(line.sn.clone());
        }
        if entry.record.status == VisitStatus::Settled {
            entry.record.status = if entry.record.end_time.is_some() {
                VisitStatus::Discharged
            } else {
                VisitStatus::Registered
            };
        }
        let update = entry.record.clone();
        state.pending.push(WriteOp::MarkFeeLinesSettled {
            visit_id: record.visit_id.clone(),
            settlement_id: None,
            sns,
        });
        state.pending.push(WriteOp::UpdateVisit(update));
    }
    state.pending.push(WriteOp::InsertLedger(ledger));
    state.pending.push(WriteOp::CancelSettlement {
        settlement_id: settlement_id.to_owned(),
        cancelled_at: ctx.now,
        cancel_msgid: ctx.msgid.to_owned(),
    });
    let Some(stored) = state.settlement(settlement_id)? else {
        unreachable!("the settlement cancelled was loaded above");
    };
    stored.status = SettlementStatus::Cancelled;
    stored.cancelled_at = Some(ctx.now);
    stored.cancel_msgid = Some(ctx.msgid.to_owned());
    Ok(stored.clone())
}

/// The opposite of a stored settlement's postings, rebuilt from its stored fund amounts.
fn reversal_postings(record: &SettlementRecord, ctx: &Ctx) -> Result<Vec<yibao_store::LedgerEntry>, PlatformError> {
    let output: serde_json::Value = serde_json::from_str(&record.output_json)
        .map_err(|e| PlatformError::internal(format!("结算结果无法解读: {e}")))?;
    // The funds as the settlement paid them (its setldetail rows), and the account.
    let mut amounts: Vec<(String, Money)> = Vec::new();
    for row in output["setldetail"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let book = row["fund_pay_type"].as_str().unwrap_or_default().to_owned();
        amounts.push((book, amount_of(&row["fund_payamt"])?));
    }
    amounts.push((
        yibao_codes::FundPayType::EmployeeAccount.code().to_owned(),
        record.account_pay + record.mutual_aid_pay,
    ));
    let amounts: Vec<(&str, Money)> = amounts.iter().map(|(b, m)| (b.as_str(), *m)).collect();
    let posting_id = format!("{}R", record.settlement_id);
    Ok(crate::ledger::postings(
        &amounts,
        &record.settlement_id,
        &posting_id,
        ctx.now,
        true,
    ))
}

fn amount_of(value: &serde_json::Value) -> Result<Money, PlatformError> {
    let text = match value {
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => s.clone(),
        _ => return Err(PlatformError::internal("结算结果中的金额缺失".into())),
    };
    Money::parse_yuan(&text).map_err(|e| PlatformError::internal(format!("结算结果中的金额无效: {e}")))
}
