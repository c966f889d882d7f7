//! Persons: enrolment commands and their records, the settlement view kept in step, family
//! members, coverage on a date, and the bulk import of a region's enrolments.

use super::*;

/// The member's settlement view after a family binding command of `owner` (`None` for other
/// commands). The rule across persons is checked here: a member is paid for by one account at a
/// time, so a settlement always knows whose.
pub(super) fn family_member_view(
    state: &mut State,
    owner: &str,
    command: &Command,
) -> Result<Option<PersonRecord>, PlatformError> {
    let (member, bind) = match command {
        Command::BindFamily { member, .. } => (member, true),
        Command::UnbindFamily { member, .. } => (member, false),
        _ => return Ok(None),
    };
    let mut view = state
        .person_by_certno(member.as_str())?
        .map(|e| e.record.clone())
        .ok_or_else(|| {
            PlatformError::field(
                "command.member",
                format!("{}未在本统筹区参保,不能绑定家庭共济", member.masked()),
            )
        })?;
    if bind {
        if let Some(payer) = view.family_payer.as_deref().filter(|p| *p != owner) {
            let payer_certno = state
                .person(payer)?
                .map(|e| e.record.certno.clone())
                .unwrap_or_default();
            return Err(PlatformError::field(
                "command.member",
                format!(
                    "{}已绑定{}的个人账户家庭共济,须先解除",
                    member.masked(),
                    mask_certno(&payer_certno)
                ),
            ));
        }
        view.family_payer = Some(owner.to_owned());
    } else if view.family_payer.as_deref() == Some(owner) {
        view.family_payer = None;
    }
    Ok(Some(view))
}

/// The person number: the enrolment's, else the settlement record's (a person the platform knew
/// before enrolment was kept here, e.g. the demo region), else a new one.
pub(super) fn person_no_for(
    state: &mut State,
    ctx: &AdminCtx,
    certno: &str,
    previous: Option<&EnrolmentRecord>,
) -> Result<String, PlatformError> {
    if let Some(row) = previous {
        return Ok(row.person_no.clone());
    }
    if let Some(entry) = state.person_by_certno(certno)? {
        return Ok(entry.record.person_no.clone());
    }
    Ok(ctx.ids.issue('P'))
}

/// The scheme the settlement view shows: the basic relationship (310/390) whose latest period
/// starts last.
pub(super) fn current_basic(records: &PersonRecords) -> Option<&yibao_enrol::Relationship> {
    records
        .relationships
        .iter()
        .filter(|r| matches!(r.insurance, InsuranceType::EmployeeBasic | InsuranceType::ResidentBasic))
        .max_by_key(|r| (r.history.last().map(|p| p.from), r.no))
}

pub(super) fn status_code(status: Status) -> &'static str {
    match status {
        Status::Enrolled => "1",
        Status::Suspended => "2",
        Status::Terminated => "4",
    }
}

pub(super) fn kind_text(kind: PersonKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Builds and queues the settlement view and the enrolment row of a person; updates the cache.
pub(super) fn write_person(
    state: &mut State,
    ctx: &AdminCtx,
    person_no: &str,
    records: &PersonRecords,
    wage: Option<Money>,
) -> Result<PersonRecord, PlatformError> {
    // The account balance is the platform's (cached or stored), never the caller's.
    let known = state.person(person_no)?.map(|entry| entry.record.clone());
    let employer_name = match current_basic(records).and_then(|r| r.employer.as_ref()) {
        Some(code) => state
            .store
            .employer(code.as_str())
            .map_err(db)?
            .map(|e| e.name)
            .unwrap_or_default(),
        None => String::new(),
    };
    let (enrolment, person) = person_rows(ctx, person_no, records, wage, known.as_ref(), employer_name)?;
    state.pending.push(WriteOp::UpsertPerson(person.clone()));
    state.pending.push(WriteOp::UpsertEnrolment(enrolment));
    state.put_person(person.clone());
    Ok(person)
}

/// The enrolment row and the settlement view of a person from their enrolment records. `known`
/// is the person's settlement view so far, if any: its account balance and ethnicity are kept.
pub(super) fn person_rows(
    ctx: &AdminCtx,
    person_no: &str,
    records: &PersonRecords,
    wage: Option<Money>,
    known: Option<&PersonRecord>,
    employer_name: String,
) -> Result<(EnrolmentRecord, PersonRecord), PlatformError> {
    let basic = current_basic(records).ok_or_else(|| PlatformError::rule("参保人没有基本医疗保险参保关系".into()))?;
    let no_period = || PlatformError::internal("参保关系没有参保期间".into());
    let latest = basic.history.last().ok_or_else(no_period)?;
    let enrolled_on = basic.history.first().ok_or_else(no_period)?.from;
    let benefits_from = basic
        .history
        .iter()
        .rev()
        .find(|p| p.status == Status::Enrolled)
        .and_then(|p| p.benefits_from.filter(|b| *b > p.from));
    let groups: Vec<SpecialGroup> = records.groups_on(ctx.today().max(latest.from));
    let civil_servant = records.relationships.iter().any(|r| {
        r.insurance == InsuranceType::CivilServantSubsidy
            && r.history.last().is_some_and(|p| p.status == Status::Enrolled)
    });
    let doc_json = serde_json::to_string(records).map_err(|e| PlatformError::internal(e.to_string()))?;
    let person = PersonRecord {
        person_no: person_no.to_owned(),
        certno: records.person.id.as_str().to_owned(),
        name: records.person.name.clone(),
        sex: records.person.sex,
        birth_date: records.person.birth_date,
        ethnicity: known.map_or_else(|| "01".to_owned(), |p| p.ethnicity.clone()),
        insurance: basic.insurance,
        person_type: PersonType::from_category(basic.kind.category()),
        tier: basic.tier,
        groups,
        civil_servant,
        insured_admdvs: basic.region.as_str().to_owned(),
        employer_name,
        status: status_code(latest.status).to_owned(),
        enrolled_on,
        benefits_from,
        account_balance: known.map_or(Money::ZERO, |p| p.account_balance),
        family_payer: known.and_then(|p| p.family_payer.clone()),
    };
    let enrolment = EnrolmentRecord {
        certno: person.certno.clone(),
        person_no: person_no.to_owned(),
        insurance: basic.insurance,
        status: person.status.clone(),
        status_from: latest.from,
        person_kind: kind_text(basic.kind),
        employer: basic.employer.as_ref().map(|c| c.as_str().to_owned()),
        wage_base: wage,
        doc_json,
        updated_at: ctx.now,
    };
    Ok((enrolment, person))
}

/// Why enrolment says a person is not covered by `insurance` on `date` (the reason settlement
/// gives), or `None` when the person is covered or has no enrolment records here.
pub fn not_covered_reason(
    state: &mut State,
    certno: &str,
    insurance: InsuranceType,
    date: NaiveDate,
) -> Result<Option<String>, PlatformError> {
    let Some((_, records)) = load(state, certno)? else {
        return Ok(None);
    };
    Ok(coverage_on(&records, insurance, date).err().map(|why| why.message_zh()))
}

pub(super) fn person(state: &mut State, certno: &str) -> Result<Value, PlatformError> {
    let (row, records) = load(state, certno)?
        .ok_or_else(|| PlatformError::field("certno", format!("{}未在本统筹区参保", mask_certno(certno))))?;
    let view = state
        .person(&row.person_no)?
        .map(|e| e.record.clone())
        .ok_or_else(|| PlatformError::internal(format!("人员{}的结算信息缺失", row.person_no)))?;
    let entries = state.store.account_entries_of_person(&row.person_no).map_err(db)?;
    let contributions = state.store.contributions_of_person(&row.person_no).map_err(db)?;
    Ok(json!({
        "person_no": row.person_no,
        "insutype": row.insurance.code(),
        "psn_insu_stas": row.status,
        "person_kind": row.person_kind,
        "employer": row.employer,
        "wage_monthly": row.wage_base,
        "benefits_from": view.benefits_from,
        "account_balance": view.account_balance,
        // Whose account pays for this person by family mutual aid (their person_no), if any.
        "family_payer": view.family_payer,
        "account_entries": entries.iter().map(|e| json!({
            "entry_id": e.entry_id, "posted_at": e.posted_at, "kind": e.kind, "amount": e.amount,
            "balance_after": e.balance_after, "reference": e.reference, "counterparty": e.counterparty,
        })).collect::<Vec<_>>(),
        "contributions": contributions.iter().map(|c| json!({
            "contribution_id": c.contribution_id, "period": c.period, "kind": c.kind, "insutype": c.insurance.code(),
            "base": c.base, "employer_amount": c.employer_amount, "individual_amount": c.individual_amount,
            "pooled_amount": c.pooled_amount, "account_amount": c.account_amount, "subsidy_amount": c.subsidy_amount,
        })).collect::<Vec<_>>(),
        "records": records,
    }))
}

pub(super) fn coverage(
    state: &mut State,
    certno: &str,
    insurance: InsuranceType,
    date: NaiveDate,
) -> Result<Value, PlatformError> {
    let (_, records) = load(state, certno)?
        .ok_or_else(|| PlatformError::field("certno", format!("{}未在本统筹区参保", mask_certno(certno))))?;
    Ok(match coverage_on(&records, insurance, date) {
        Ok(c) => json!({
            "covered": true, "insutype": insurance.code(), "date": date, "benefits_from": c.benefits_from,
            "psn_type": c.person_type().code(), "relationship": c.relationship,
        }),
        Err(why) => json!({
            "covered": false, "insutype": insurance.code(), "date": date, "reason": why.message_zh(), "detail": why,
        }),
    })
}

/// Enrols every row or none: each row is checked (citizen ID, employer registered, not
/// enrolled here already, not twice in the file, the enrolment rules); any error refuses the
/// whole file, with every error's line (up to [`IMPORT_ERRORS_REPORTED_MAX`]).
pub(super) fn import(state: &mut State, ctx: &AdminCtx, rows: &[ImportRow]) -> Result<Value, PlatformError> {
    if rows.len() > IMPORT_ROWS_MAX {
        return Err(PlatformError::rule(format!(
            "导入{}行, 超过上限{IMPORT_ROWS_MAX}行",
            rows.len()
        )));
    }
    let region = RegionCode::parse(&ctx.region.admdvs).map_err(|e| PlatformError::internal(e.to_string()))?;
    let mut errors: Vec<String> = Vec::new();
    let mut error_count = 0usize;
    let mut fail = |line: u64, message: String, errors: &mut Vec<String>| {
        error_count += 1;
        if errors.len() < IMPORT_ERRORS_REPORTED_MAX {
            errors.push(format!("第{line}行: {message}"));
        }
    };
    // Duplicates inside the file, and people already enrolled or known here.
    let mut seen: rustc_hash::FxHashMap<&str, u64> = rustc_hash::FxHashMap::default();
    for row in rows {
        if let Some(first) = seen.insert(row.certno.as_str(), row.line) {
            fail(row.line, format!("证件号码与第{first}行重复(重复参保)"), &mut errors);
        }
    }
    let certnos: Vec<&str> = rows.iter().map(|r| r.certno.as_str()).collect();
    let mut enrolled: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
    let mut known: rustc_hash::FxHashMap<String, PersonRecord> = rustc_hash::FxHashMap::default();
    for chunk in certnos.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
        enrolled.extend(
            state
                .store
                .enrolments_of(chunk)
                .map_err(db)?
                .into_iter()
                .map(|e| e.certno),
        );
    }
    let employers: rustc_hash::FxHashMap<String, String> = {
        let mut codes: Vec<&str> = rows.iter().filter_map(|r| r.employer.as_deref()).collect();
        codes.sort_unstable();
        codes.dedup();
        let mut out = rustc_hash::FxHashMap::default();
        for code in codes {
            if let Some(e) = state.store.employer(code).map_err(db)? {
                out.insert(e.credit_code, e.name);
            }
        }
        out
    };
    let mut applied_rows: Vec<(&ImportRow, PersonRecords)> = Vec::with_capacity(rows.len());
    for row in rows {
        if enrolled.contains(&row.certno) {
            fail(row.line, "已在本统筹区参保(重复参保)".into(), &mut errors);
            continue;
        }
        let person = match Person::new(&row.certno, &row.name) {
            Ok(p) => p,
            Err(e) => {
                fail(row.line, e.to_string(), &mut errors);
                continue;
            }
        };
        let employer = match &row.employer {
            Some(code) => match yibao_enrol::CreditCode::parse(code) {
                Ok(c) if employers.contains_key(c.as_str()) => Some(c),
                Ok(c) => {
                    fail(row.line, format!("参保单位{}尚未登记", c.as_str()), &mut errors);
                    continue;
                }
                Err(e) => {
                    fail(row.line, e.to_string(), &mut errors);
                    continue;
                }
            },
            None => None,
        };
        if row.wage_monthly.is_some_and(Money::is_negative) {
            fail(row.line, "缴费工资不能为负".into(), &mut errors);
            continue;
        }
        let command = Command::Enrol(Enrolment {
            insurance: row.insurance,
            region: region.clone(),
            employer,
            kind: row.kind,
            tier: row.tier,
            county_class: row.county_class.clone(),
            applied_on: row.applied_on,
            repaired_years: 0,
        });
        let decided = if row.insurance == InsuranceType::ResidentBasic {
            ctx.resident_policy_on(row.applied_on)
        } else {
            ctx.policy_on(row.applied_on)
        };
        let policy = match decided {
            Ok(p) => p,
            Err(e) => {
                fail(row.line, e.message.clone(), &mut errors);
                continue;
            }
        };
        match apply(&PersonRecords::new(person), &command, policy) {
            Ok(applied) => applied_rows.push((row, applied.records)),
            Err(e) => fail(row.line, e.to_string(), &mut errors),
        }
    }
    if error_count > 0 {
        let shown = errors.join("\n");
        let more = if error_count > errors.len() {
            format!("\n……另有{}处错误", error_count - errors.len())
        } else {
            String::new()
        };
        return Err(PlatformError::rule(format!(
            "导入文件有{error_count}处错误, 全部未导入:\n{shown}{more}"
        )));
    }
    // Persons the platform knew without an enrolment (none in a real region) keep their number.
    // Looked up a page at a time (one round trip each on PostgreSQL); a cached view is newer
    // than the stored one (its balance may be ahead by the batch in flight).
    for chunk in certnos.chunks(yibao_store::MESSAGES_LOOKUP_MAX) {
        for record in state.store.persons_by_certno(chunk).map_err(db)? {
            let record = state.cached_person(&record.person_no).unwrap_or(record);
            known.insert(record.certno.clone(), record);
        }
    }
    // In citizen-ID order, numbered in that order: every index of the two tables then grows at
    // its end (a million random inserts into a B-tree cost several times more).
    applied_rows.sort_unstable_by(|a, b| a.0.certno.cmp(&b.0.certno));
    let mut ops = Vec::with_capacity(2 * applied_rows.len());
    for (row, records) in &applied_rows {
        let person_no = known
            .get(&row.certno)
            .map_or_else(|| ctx.ids.issue('P'), |p| p.person_no.clone());
        // The employers were read once for the whole file, not per row.
        let employer_name = current_basic(records)
            .and_then(|r| r.employer.as_ref())
            .and_then(|c| employers.get(c.as_str()).cloned())
            .unwrap_or_default();
        let (enrolment, person) = person_rows(
            ctx,
            &person_no,
            records,
            row.wage_monthly,
            known.get(&row.certno),
            employer_name,
        )?;
        ops.push(WriteOp::UpsertPerson(person));
        ops.push(WriteOp::UpsertEnrolment(enrolment));
    }
    let imported = applied_rows.len();
    for op in ops {
        if let WriteOp::UpsertPerson(p) = &op {
            if known.contains_key(&p.certno) {
                state.put_person(p.clone());
            }
        }
        state.pending.push(op);
    }
    Ok(json!({ "imported": imported }))
}
