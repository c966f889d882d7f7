//! Supervision in real time: at settlement (2206/2207, 2303/2304) the region's rules run on the
//! lines about to be settled, and each refused amount goes into its line as a refusal the
//! engine settles as self-pay; 3101 (事前) and 3102 (事中) answer the same rules' findings on
//! the orders a HIS sends, and 3103 records what the doctor did with each warning. The rules
//! themselves are pure (`yibao-monitor`); this module builds the claims and stores findings.

use chrono::NaiveDateTime;
use yibao_codes::{CareSetting, HospitalLevel};
use yibao_fsi::answers::{self, AuditDetail, AuditFinding};
use yibao_fsi::{Input3101, Input3103};
use yibao_money::Money;
use yibao_monitor::{check_claim, refusals, Action, Claim, ClaimLine, Finding, Role, RuleId};
use yibao_settle::{Refusal, Visit};
use yibao_store::{FindingRecord, PersonRecord, WriteOp};

use crate::error::PlatformError;
use crate::service::Ctx;
use crate::state::State;

/// Runs the region's real-time rules on `visit`'s lines (occurred at `times`, one per line)
/// and writes each refusal into its line. Returns every finding (refusing or warning). Nothing
/// runs when the region has no rule file in force or no 两库 was imported.
pub fn review_for_settlement(
    state: &mut State,
    ctx: &Ctx,
    person: &PersonRecord,
    level: HospitalLevel,
    visit: &mut Visit,
    times: &[NaiveDateTime],
    rounding: yibao_money::Rounding,
) -> Result<Vec<Finding>, PlatformError> {
    let Some(policy) = ctx.region.monitor_on(visit.begin_date) else {
        return Ok(Vec::new());
    };
    let Some(kb) = state.knowledge()? else {
        return Ok(Vec::new());
    };
    assert_eq!(times.len(), visit.lines.len(), "one time per line");
    let lines: Vec<ClaimLine> = visit
        .lines
        .iter()
        .zip(times)
        .map(|(l, at)| ClaimLine {
            sn: l.sn.clone(),
            code: l.code.clone(),
            quantity: l.quantity,
            price: l.price,
            amount: Money::from_price_quantity(l.price, l.quantity, rounding),
            at: *at,
            list_price: ctx.region.catalog.get(&l.code).and_then(|i| i.price_cap),
        })
        .collect();
    let claim = Claim {
        sex: person.sex,
        birth_date: person.birth_date,
        insurance: person.insurance,
        setting: visit.medical_type.setting(),
        level,
        begin_date: visit.begin_date,
        lines: &lines,
    };
    let findings = check_claim(&kb, policy, &claim, rounding);
    for r in refusals(&findings) {
        visit.lines[r.line].refusal = Some(Refusal {
            rule_id: r.rule.id().to_owned(),
            rule_name: r.rule.name_zh().to_owned(),
            text: r.text,
            amount: r.amount,
        });
    }
    Ok(findings)
}

/// 3101/3102: each patient's encounters checked with the region's real-time rules. Orders of
/// one encounter form one claim (history orders, `curr_drord_flag` 0, count for the rules that
/// count over a visit, but a finding is answered only when a current order breaks the rule).
/// Every finding answered is stored with its `jr_id`, for 3103.
pub fn audit(state: &mut State, ctx: &Ctx, input: &Input3101) -> Result<serde_json::Value, PlatformError> {
    let kb = state
        .knowledge()?
        .ok_or_else(|| PlatformError::rule("尚未导入两库知识库, 经办机构须先执行 yibao monitor import".into()))?;
    let caller_level = crate::service::hospital_level(state, ctx.institution)?;
    let mut wanted: Vec<RuleId> = Vec::new();
    for (i, id) in input.rule_ids.iter().enumerate() {
        let rule = RuleId::parse(id).ok_or_else(|| {
            PlatformError::field(&format!("input.data.rule_ids[{i}]"), format!("规则编号“{id}”不存在"))
        })?;
        wanted.push(rule);
    }
    let rounding = yibao_money::Rounding::HalfUp;
    let mut records = Vec::new();
    let mut answered: Vec<(usize, usize, Finding, String)> = Vec::new();
    for (pi, patient) in input.patients.iter().enumerate() {
        for (ei, encounter) in patient.encounters.iter().enumerate() {
            let date = encounter.adm_date.date();
            let Some(policy) = ctx.region.monitor_on(date) else {
                return Err(PlatformError::rule(format!("{date}本统筹区没有生效的智能监控规则")));
            };
            let level = if encounter.medins_id == ctx.institution {
                caller_level
            } else {
                encounter
                    .medins_lv
                    .as_deref()
                    .and_then(|l| l.parse::<i64>().ok())
                    .and_then(HospitalLevel::from_number)
                    .unwrap_or(caller_level)
            };
            let lines: Vec<ClaimLine> = encounter
                .orders
                .iter()
                .map(|o| ClaimLine {
                    sn: o.rx_id.clone(),
                    code: o.hilist_code.clone(),
                    quantity: o.cnt,
                    price: o.pric,
                    amount: o
                        .sumamt
                        .unwrap_or_else(|| Money::from_price_quantity(o.pric, o.cnt, rounding)),
                    at: o.drord_begn_date,
                    list_price: o
                        .hilist_pric
                        .or_else(|| ctx.region.catalog.get(&o.hilist_code).and_then(|i| i.price_cap)),
                })
                .collect();
            let setting = match encounter.med_type {
                Some(t) => t.setting(),
                None if encounter.inpatient => CareSetting::Inpatient,
                None => CareSetting::Outpatient,
            };
            let claim = Claim {
                sex: patient.gend,
                birth_date: patient.brdy,
                insurance: encounter.insutype,
                setting,
                level,
                begin_date: date,
                lines: &lines,
            };
            for finding in check_claim(&kb, policy, &claim, rounding) {
                if !wanted.is_empty() && !wanted.contains(&finding.rule) {
                    continue;
                }
                let current = finding
                    .lines
                    .iter()
                    .any(|l| l.role == Role::Violating && encounter.orders[l.line].curr_drord_flag);
                if !current {
                    continue;
                }
                let jr_id = ctx.ids.issue('J');
                let detail = serde_json::json!({
                    "text": finding.text, "basis": finding.basis, "infno": ctx.infno,
                    "lines": finding.lines.iter().map(|l| serde_json::json!({
                        "rx_id": encounter.orders[l.line].rx_id, "code": encounter.orders[l.line].hilist_code,
                        "violating": l.role == Role::Violating, "amount": l.amount,
                    })).collect::<Vec<_>>(),
                });
                records.push(FindingRecord {
                    finding_id: jr_id.clone(),
                    origin: ctx.infno.to_owned(),
                    dedupe_key: jr_id.clone(),
                    institution: ctx.institution.to_owned(),
                    person_no: patient.patn_id.clone(),
                    visit_id: encounter.mdtrt_id.clone(),
                    rule_id: finding.rule.id().to_owned(),
                    severity: finding.severity.name_zh().to_owned(),
                    action: finding.action.code().to_owned(),
                    amount: finding.amount_at_stake,
                    found_at: ctx.now,
                    detail_json: detail.to_string(),
                    feedback_way: None,
                    feedback_reason: None,
                    feedback_at: None,
                });
                answered.push((pi, ei, finding, jr_id));
            }
        }
    }
    let findings: Vec<AuditFinding> = answered
        .iter()
        .map(|(pi, ei, f, jr_id)| {
            let patient = &input.patients[*pi];
            let encounter = &patient.encounters[*ei];
            AuditFinding {
                jr_id: jr_id.clone(),
                rule_id: f.rule.id(),
                rule_name: f.rule.name_zh(),
                text: &f.text,
                patn_id: &patient.patn_id,
                mdtrt_id: &encounter.mdtrt_id,
                details: f
                    .lines
                    .iter()
                    .map(|l| AuditDetail {
                        jrd_id: ctx.ids.issue('D'),
                        patn_id: &patient.patn_id,
                        mdtrt_id: &encounter.mdtrt_id,
                        rx_id: &encounter.orders[l.line].rx_id,
                        violating: l.role == Role::Violating,
                        amount: l.amount,
                    })
                    .collect(),
                amount: f.amount_at_stake,
                severity: f.severity.name_zh(),
                basis: &f.basis,
                action: f.action.name_zh(),
                task_id: input.task_id.as_deref(),
            }
        })
        .collect();
    let answer = answers::audit_findings(&findings);
    if !records.is_empty() {
        state.pending.push(WriteOp::InsertFindings(records));
    }
    Ok(answer)
}

/// 3103: the HIS's decision on each warning, stored against it. Only the institution a warning
/// was answered to may feed back on it; a warning of the other kind (事前/事中) is refused.
pub fn feedback(state: &mut State, ctx: &Ctx, input: &Input3103) -> Result<(), PlatformError> {
    let kind = if input.warn_type == 1 { "3101" } else { "3102" };
    for (i, warn) in input.warns.iter().enumerate() {
        let field = format!("input.data.warns[{i}].warn_rslt_id");
        let record = state
            .store
            .finding(&warn.warn_rslt_id)
            .map_err(|e| PlatformError::internal(e.to_string()))?
            .filter(|r| r.institution == ctx.institution && (r.origin == "3101" || r.origin == "3102"))
            .ok_or_else(|| PlatformError::field(&field, format!("预警结果标识{}不存在", warn.warn_rslt_id)))?;
        if record.origin != kind {
            return Err(PlatformError::field(
                &field,
                format!(
                    "预警{}由{}产生,与预警类型warn_type={}不符",
                    warn.warn_rslt_id, record.origin, input.warn_type
                ),
            ));
        }
    }
    for warn in &input.warns {
        state.pending.push(WriteOp::SetFindingFeedback {
            finding_id: warn.warn_rslt_id.clone(),
            way: warn.dspo_way.code().to_owned(),
            reason: warn.dspo_way_rea.clone(),
            at: ctx.now,
        });
    }
    Ok(())
}

/// After-the-fact screening (事后) of the settlements made from `from` to `to`: every rule the
/// region lists, and the rules over a person's visits (which look back on the days before
/// `from` for history). Suspicions are numbered by what they are about, so a second screening
/// of the same period records nothing new; the answer says how many were new.
pub fn screen(
    state: &mut State,
    region: &crate::service::Region,
    now: chrono::NaiveDateTime,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Result<serde_json::Value, PlatformError> {
    use sha2::Digest as _;
    if from > to {
        return Err(PlatformError::field("from", format!("开始日期{from}晚于结束日期{to}")));
    }
    if (to - from).num_days() > 366 {
        return Err(PlatformError::field("to", "一次筛查不超过一年, 请分段筛查".into()));
    }
    let kb = state
        .knowledge()?
        .ok_or_else(|| PlatformError::rule("尚未导入两库知识库, 经办机构须先执行 yibao monitor import".into()))?;
    if region.monitor.is_empty() {
        return Err(PlatformError::rule(
            "本统筹区未配置智能监控规则文件(--monitor-policy)".into(),
        ));
    }
    // History: as far back as the longest readmission window any version looks at.
    let lookback_days = region
        .monitor
        .iter()
        .filter_map(|p| p.thresholds.readmission_days_max)
        .max()
        .unwrap_or(0);
    let history_from = from - chrono::Duration::days(i64::from(lookback_days));
    let set = state
        .store
        .screening_set(history_from, to)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    if set.settlements.len() > yibao_monitor::SCREEN_VISITS_MAX {
        return Err(PlatformError::rule(format!(
            "筛查期内结算{}笔, 超过一次筛查上限{}笔, 请缩短筛查期",
            set.settlements.len(),
            yibao_monitor::SCREEN_VISITS_MAX
        )));
    }
    // The claims are built in a scope of their own, so that the period as read (the settlements'
    // inputs as JSON, every line's time) is freed before the rules run: about half the memory.
    let mut screened: Vec<yibao_monitor::ScreenVisit> = Vec::with_capacity(set.settlements.len());
    {
        let visits_by_id: rustc_hash::FxHashMap<&str, &yibao_store::VisitRecord> =
            set.visits.iter().map(|v| (v.visit_id.as_str(), v)).collect();
        let mut times: rustc_hash::FxHashMap<(&str, &str), chrono::NaiveDateTime> = rustc_hash::FxHashMap::default();
        times.reserve(set.line_times.len());
        for (settlement, sn, at) in &set.line_times {
            times.insert((settlement.as_str(), sn.as_str()), *at);
        }
        // Decoding each settlement's inputs is most of the work: spread over the cores.
        let build = |s: &yibao_store::ScreenedSettlement| -> Result<yibao_monitor::ScreenVisit, PlatformError> {
            let inputs: crate::service::StoredInputs = serde_json::from_str(&s.inputs_json)
                .map_err(|e| PlatformError::internal(format!("结算{}的输入无法解读: {e}", s.settlement_id)))?;
            let Some(visit) = visits_by_id.get(s.visit_id.as_str()) else {
                return Err(PlatformError::internal(format!(
                    "结算{}的就诊{}缺失",
                    s.settlement_id, s.visit_id
                )));
            };
            let begin = visit.begin_time;
            let lines: Vec<ClaimLine> = inputs
                .visit
                .lines
                .iter()
                .map(|l| ClaimLine {
                    sn: l.sn.clone(),
                    code: l.code.clone(),
                    quantity: l.quantity,
                    price: l.price,
                    amount: Money::from_price_quantity(l.price, l.quantity, yibao_money::Rounding::HalfUp),
                    at: times
                        .get(&(s.settlement_id.as_str(), l.sn.as_str()))
                        .copied()
                        .or_else(|| l.date.and_then(|d| d.and_hms_opt(0, 0, 0)))
                        .unwrap_or(begin),
                    list_price: region.catalog.get(&l.code).and_then(|i| i.price_cap),
                })
                .collect();
            Ok(yibao_monitor::ScreenVisit {
                settlement_id: s.settlement_id.clone(),
                visit_id: s.visit_id.clone(),
                person_no: s.person_no.clone(),
                institution: s.institution.clone(),
                sex: inputs.person.sex,
                birth_date: inputs.person.birth_date,
                insurance: inputs.person.insurance,
                setting: inputs.visit.medical_type.setting(),
                level: inputs.visit.level,
                begin,
                end: visit.end_time.unwrap_or(begin).max(begin),
                diagnosis: visit.diagnosis_code.clone(),
                doctor: visit.doctor.clone(),
                fund_paid: s.fund_total,
                refused: inputs.visit.lines.iter().map(|l| l.refusal.is_some()).collect(),
                lines,
                not_covered: None,
            })
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
        let chunk = set.settlements.len().div_ceil(threads).max(1);
        let parts: Vec<Result<Vec<yibao_monitor::ScreenVisit>, PlatformError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = set
                .settlements
                .chunks(chunk)
                .map(|part| scope.spawn(|| part.iter().map(build).collect::<Result<Vec<_>, _>>()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(PlatformError::internal("筛查线程异常终止".into())))
                })
                .collect()
        });
        for part in parts {
            screened.extend(part?);
        }
    }
    drop(set);
    // Coverage on each visit's day by the enrolment records as they stand now (a termination or
    // death registered after the settlement shows here); persons without records are skipped.
    let mut records_of: rustc_hash::FxHashMap<String, Option<yibao_enrol::PersonRecords>> =
        rustc_hash::FxHashMap::default();
    for v in &mut screened {
        if !records_of.contains_key(&v.person_no) {
            let records = match state
                .store
                .enrolment_of_person(&v.person_no)
                .map_err(|e| PlatformError::internal(e.to_string()))?
            {
                Some(row) => Some(
                    serde_json::from_str::<yibao_enrol::PersonRecords>(&row.doc_json)
                        .map_err(|e| PlatformError::internal(format!("人员{}的参保记录无法解读: {e}", v.person_no)))?,
                ),
                None => None,
            };
            records_of.insert(v.person_no.clone(), records);
        }
        if let Some(Some(records)) = records_of.get(&v.person_no) {
            v.not_covered = yibao_enrol::coverage_on(records, v.insurance, v.begin.date())
                .err()
                .map(|why| why.message_zh());
        }
    }
    let policy_on = |d: chrono::NaiveDate| region.monitor_on(d);
    let suspicions = yibao_monitor::screen(&kb, &policy_on, &screened, from, yibao_money::Rounding::HalfUp);
    let mut new = Vec::new();
    let mut by_rule: std::collections::BTreeMap<RuleId, (usize, Money)> = std::collections::BTreeMap::new();
    let mut already = 0usize;
    // What earlier screenings recorded, read once.
    let known: rustc_hash::FxHashSet<String> = state
        .store
        .screen_finding_ids()
        .map_err(|e| PlatformError::internal(e.to_string()))?
        .into_iter()
        .collect();
    for s in &suspicions {
        let v = &screened[s.visit];
        if v.end.date() > to {
            continue;
        }
        let entry = by_rule.entry(s.rule).or_insert((0, Money::ZERO));
        entry.0 += 1;
        entry.1 += s.amount;
        let digest = sha2::Sha256::digest(s.key.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02X}")).collect();
        let finding_id = format!("Y{}", &hex[..29]);
        if known.contains(&finding_id) {
            already += 1;
            continue;
        }
        let action = region
            .monitor_on(v.begin.date())
            .and_then(|p| p.action(s.rule))
            .map_or("screen", Action::code);
        new.push(FindingRecord {
            finding_id,
            origin: "screen".into(),
            dedupe_key: s.key.clone(),
            institution: v.institution.clone(),
            // Peers and groups are about an institution, not one person's visit.
            person_no: if s.institution_level {
                String::new()
            } else {
                v.person_no.clone()
            },
            visit_id: if s.institution_level {
                String::new()
            } else {
                v.visit_id.clone()
            },
            rule_id: s.rule.id().into(),
            severity: s.severity.name_zh().into(),
            action: action.into(),
            amount: s.amount,
            found_at: now,
            detail_json: serde_json::json!({
                "text": s.text, "basis": s.basis,
                "settlement_id": (!s.institution_level).then(|| v.settlement_id.clone()),
                "other_settlement_id": s.other.map(|o| screened[o].settlement_id.clone()),
                "lines": s.lines,
            })
            .to_string(),
            feedback_way: None,
            feedback_reason: None,
            feedback_at: None,
        });
    }
    let recorded = new.len();
    if !new.is_empty() {
        state.pending.push(WriteOp::InsertFindings(new));
    }
    let in_period = screened.iter().filter(|v| v.end.date() >= from).count();
    Ok(serde_json::json!({
        "from": from, "to": to,
        "settlements_screened": in_period,
        "lines_screened": screened.iter().filter(|v| v.end.date() >= from).map(|v| v.lines.len()).sum::<usize>(),
        "history_settlements": screened.len() - in_period,
        "suspicions": recorded + already,
        "new": recorded,
        "already_recorded": already,
        "by_rule": by_rule.iter().map(|(rule, (count, amount))| serde_json::json!({
            "rule_id": rule.id(), "rule_name": rule.name_zh(), "count": count, "amount": amount,
        })).collect::<Vec<_>>(),
    }))
}
