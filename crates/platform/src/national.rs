//! The national interface's transactions, mapped onto the platform's operations. Wire types come
//! from `yibao-fsi`; this module decides what each transaction does and what it answers.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use yibao_codes::{CareSetting, MedicalType};
use yibao_fsi::answers;
use yibao_fsi::{fee_result_row, settlement_output, PersonLookup, SetlContext, TransactionInput as T};
use yibao_settle::FeeLine;
use yibao_store::{ChronicFilingRecord, SettlementFilter, SettlementStatus, VisitStatus, WriteOp};

use crate::certificate::{self, Presented};
use crate::service::{self, Ctx, LineSelector, NewFeeLine, SettleRequest, Settled};
use crate::state::State;
use crate::PlatformError;

/// Whether a transaction changes state (its answer is stored and replayed for a repeated msgid).
pub fn changes_state(input: &T) -> bool {
    !matches!(
        input,
        T::SignIn(_)
            | T::SignOut(_)
            | T::PersonInfo(_)
            // A catalog download makes a fresh file each time: replaying an old answer could
            // hand back a file number that has expired.
            | T::CatalogDownload(_)
            | T::FileDownload(_)
            | T::CatalogQuery(_)
            | T::Dictionary(_)
            | T::BenefitCheck(_)
            | T::OutpatientPreSettle(_)
            | T::InpatientPreSettle(_)
            | T::ReconcileTotals(_)
            | T::VisitQuery(_)
            | T::DiagnosisQuery(_)
            | T::SettlementQuery(_)
            | T::FeeQuery(_)
            | T::ChronicDrugQuery(_)
            | T::CumulativeQuery(_)
    )
}

/// What the audit line of a transaction records beyond its outcome: for 1101, whom the caller
/// looked up (the certificate, masked by the audit writer, and the person found), so that a
/// bureau can answer "who looked at my record".
pub fn audit_note(input: &T, output: Option<&Value>) -> Option<String> {
    let T::PersonInfo(i) = input else {
        return None;
    };
    let presented = match i.lookup() {
        PersonLookup::Voucher {
            mdtrt_cert_type,
            mdtrt_cert_no,
            ..
        } => format!("就诊凭证{mdtrt_cert_type}:{}", clip(mdtrt_cert_no)),
        PersonLookup::Certificate { certno, .. } => format!("证件号码{}", clip(certno)),
    };
    let found = output
        .and_then(|o| o["baseinfo"]["psn_no"].as_str())
        .map_or(String::new(), |p| format!(",人员编号{p}"));
    Some(format!("查询参保人 {presented}{found}"))
}

fn clip(text: &str) -> String {
    text.chars().take(50).collect()
}

/// Runs one transaction. `Ok(None)` means success with no output node.
pub fn dispatch(state: &mut State, ctx: &Ctx, input: &T) -> Result<Option<Value>, PlatformError> {
    match input {
        T::SignIn(_) => Ok(Some(answers::sign_in(ctx.now, &ctx.ids.issue('G')))),
        T::SignOut(_) => Ok(Some(answers::sign_out(ctx.now))),
        T::PersonInfo(i) => person_info(state, ctx, i).map(Some),
        T::BenefitCheck(i) => benefit_check(state, ctx, i).map(Some),
        T::CatalogQuery(q) => catalog_rows(ctx, q).map(Some),
        T::CatalogDownload(_) => crate::exchange::catalog_download(state, ctx, ctx.infno).map(Some),
        T::FileUpload(i) => crate::exchange::upload(state, ctx, i).map(Some),
        // Answered with the file itself, by `Platform::download`, not with an output node.
        T::FileDownload(_) => Err(PlatformError::field(
            "infno",
            "9102文件下载的应答是文件,不经此路径".to_owned(),
        )),
        T::Dictionary(i) => Ok(Some(dictionary(&i.r#type))),
        T::Registration(i) => {
            let certificate = Presented {
                cert_type: &i.mdtrt_cert_type,
                cert_no: &i.mdtrt_cert_no,
                node: "input.data",
            };
            certificate::check_holder(state, &certificate, &i.psn_no)?;
            let visit = service::register(
                state,
                ctx,
                &i.psn_no,
                i.insutype,
                MedicalType::GeneralOutpatient,
                i.begntime,
                &i.ipt_otp_no,
                None,
                &i.atddr_no,
            )?;
            Ok(Some(answers::registration(&visit.visit_id, &i.psn_no, &i.ipt_otp_no)))
        }
        T::RegistrationCancel(i) => service::cancel_visit(state, ctx, &i.mdtrt_id, &i.psn_no).map(|_| None),
        T::OutpatientVisit(i) => {
            let info = &i.mdtrtinfo;
            let diagnosis = i.diseinfo.iter().find(|d| d.vali_flag).map(|d| d.diag_code.clone());
            service::update_visit(
                state,
                ctx,
                &info.mdtrt_id,
                &info.psn_no,
                Some(info.med_type),
                Some(info.begntime),
                info.dise_codg.clone(),
                diagnosis,
            )
            .map(|_| None)
        }
        T::OutpatientFees(i) => {
            let first = i
                .feedetail
                .first()
                .ok_or_else(|| PlatformError::field("feedetail", "费用明细不能为空".into()))?;
            let (visit_id, person_no) = (first.mdtrt_id.clone(), first.psn_no.clone());
            let mut lines = Vec::with_capacity(i.feedetail.len());
            for (n, d) in i.feedetail.iter().enumerate() {
                same_visit(n, &d.mdtrt_id, &d.psn_no, &visit_id, &person_no)?;
                lines.push(new_line(
                    &d.feedetl_sn,
                    &d.chrg_bchno,
                    &d.item,
                    d.dise_codg.clone(),
                    None,
                ));
            }
            upload(state, ctx, &visit_id, &person_no, lines)
        }
        T::OutpatientFeesCancel(i) => {
            let selector = if i.all_batches() {
                LineSelector::All
            } else {
                LineSelector::Batch(i.chrg_bchno.clone())
            };
            service::delete_lines(state, ctx, &i.mdtrt_id, &i.psn_no, selector).map(|_| None)
        }
        T::OutpatientPreSettle(i) | T::OutpatientSettle(i) => {
            let preview = matches!(input, T::OutpatientPreSettle(_));
            let request = SettleRequest {
                visit_id: &i.mdtrt_id,
                person_no: &i.psn_no,
                insurance: Some(i.insutype),
                medical_type: Some(i.med_type),
                use_account: i.acct_used_flag,
                expected_total: Some(i.medfee_sumamt),
                preview,
                interim: false,
            };
            settle(state, ctx, &request, &i.mdtrt_cert_type, &i.mdtrt_cert_no)
        }
        T::OutpatientSettleCancel(i) => cancel(state, ctx, &i.setl_id, Some(&i.mdtrt_id), &i.psn_no),
        T::InpatientFees(i) => {
            let first = i
                .feedetail
                .first()
                .ok_or_else(|| PlatformError::field("feedetail", "费用明细不能为空".into()))?;
            let (visit_id, person_no) = (first.mdtrt_id.clone(), first.psn_no.clone());
            let mut lines = Vec::with_capacity(i.feedetail.len());
            for (n, d) in i.feedetail.iter().enumerate() {
                same_visit(n, &d.mdtrt_id, &d.psn_no, &visit_id, &person_no)?;
                lines.push(new_line(&d.feedetl_sn, "", &d.item, None, d.init_feedetl_sn.clone()));
            }
            upload(state, ctx, &visit_id, &person_no, lines)
        }
        T::InpatientFeesCancel(i) => {
            let mut deleted = 0;
            // Check every revocation first: a refused one must leave the others undone too.
            let first = i
                .data
                .first()
                .ok_or_else(|| PlatformError::field("data", "撤销明细不能为空".into()))?;
            for (n, r) in i.data.iter().enumerate() {
                same_visit(n, &r.mdtrt_id, &r.psn_no, &first.mdtrt_id, &first.psn_no)?;
            }
            if i.data.iter().any(|r| r.revokes_all()) {
                deleted += service::delete_lines(state, ctx, &first.mdtrt_id, &first.psn_no, LineSelector::All)?;
            } else {
                let entry = state.visit(&first.mdtrt_id)?;
                if let Some(entry) = entry {
                    for r in &i.data {
                        if !entry
                            .lines
                            .iter()
                            .any(|l| l.sn == r.feedetl_sn && l.settlement_id.is_none())
                        {
                            return Err(PlatformError::field(
                                "feedetl_sn",
                                format!("未结算的费用明细{}不存在", r.feedetl_sn),
                            ));
                        }
                    }
                }
                for r in &i.data {
                    deleted += service::delete_lines(
                        state,
                        ctx,
                        &r.mdtrt_id,
                        &r.psn_no,
                        LineSelector::Line(r.feedetl_sn.clone()),
                    )?;
                }
            }
            debug_assert!(deleted > 0);
            Ok(None)
        }
        T::InpatientPreSettle(i) | T::InpatientSettle(i) => {
            let preview = matches!(input, T::InpatientPreSettle(_));
            let request = SettleRequest {
                visit_id: &i.mdtrt_id,
                person_no: &i.psn_no,
                insurance: Some(i.insutype),
                medical_type: None,
                use_account: i.acct_used_flag,
                expected_total: Some(i.medfee_sumamt),
                preview,
                interim: i.mid_setl_flag,
            };
            settle(state, ctx, &request, &i.mdtrt_cert_type, &i.mdtrt_cert_no)
        }
        T::InpatientSettleCancel(i) => cancel(state, ctx, &i.setl_id, Some(&i.mdtrt_id), &i.psn_no),
        T::Admission(i) => {
            let info = &i.mdtrtinfo;
            if info.med_type.setting() != CareSetting::Inpatient {
                return Err(PlatformError::field(
                    "mdtrtinfo.med_type",
                    format!("入院办理的医疗类别{}不是住院类别", info.med_type.code()),
                ));
            }
            let certificate = Presented {
                cert_type: &info.mdtrt_cert_type,
                cert_no: &info.mdtrt_cert_no,
                node: "input.mdtrtinfo",
            };
            certificate::check_holder(state, &certificate, &info.psn_no)?;
            let visit = service::register(
                state,
                ctx,
                &info.psn_no,
                info.insutype,
                info.med_type,
                info.begntime,
                &info.ipt_no,
                Some(info.dscg_maindiag_code.clone()),
                &info.atddr_no,
            )?;
            if info.dise_codg.is_some() {
                service::update_visit(
                    state,
                    ctx,
                    &visit.visit_id,
                    &info.psn_no,
                    None,
                    None,
                    info.dise_codg.clone(),
                    None,
                )?;
            }
            Ok(Some(answers::admission(&visit.visit_id, &info.psn_no, &info.ipt_no)))
        }
        T::Discharge(i) => {
            let d = &i.dscginfo;
            service::discharge(state, ctx, &d.mdtrt_id, &d.psn_no, Some(d.endtime)).map(|_| None)
        }
        T::AdmissionChange(i) => {
            let a = &i.adminfo;
            service::update_visit(
                state,
                ctx,
                &a.mdtrt_id,
                &a.psn_no,
                a.med_type,
                a.begntime,
                a.dise_codg.clone(),
                a.dscg_maindiag_code.clone(),
            )
            .map(|_| None)
        }
        T::AdmissionCancel(i) => service::cancel_visit(state, ctx, &i.mdtrt_id, &i.psn_no).map(|_| None),
        T::DischargeCancel(i) => service::discharge(state, ctx, &i.mdtrt_id, &i.psn_no, None).map(|_| None),
        T::ChronicFiling(i) => chronic_filing(state, ctx, i).map(Some),
        T::ChronicFilingCancel(i) => chronic_filing_cancel(state, ctx, i).map(|_| None),
        T::Reversal(i) => reversal(state, ctx, i).map(|_| None),
        T::SettlementList(i) => settlement_list(state, ctx, i).map(Some),
        T::Audit(i) => crate::monitor::audit(state, ctx, i).map(Some),
        T::AuditFeedback(i) => crate::monitor::feedback(state, ctx, i).map(|_| None),
        T::ReconcileTotals(i) => reconcile_totals(state, ctx, i).map(Some),
        T::ReconcileDetail(i) => reconcile_detail(state, ctx, i).map(Some),
        T::VisitQuery(i) => visit_query(state, ctx, i).map(Some),
        T::DiagnosisQuery(i) => {
            let visit = own_visit_record(state, ctx, &i.mdtrt_id, &i.psn_no)?;
            Ok(Some(answers::diagnoses(
                &visit.visit_id,
                visit.diagnosis_code.as_deref(),
            )))
        }
        T::SettlementQuery(i) => {
            let record = state
                .store
                .settlement(&i.setl_id)
                .map_err(|e| PlatformError::internal(e.to_string()))?
                .filter(|s| s.institution == ctx.institution && s.person_no == i.psn_no && s.visit_id == i.mdtrt_id)
                .ok_or_else(|| PlatformError::field("setl_id", format!("结算ID{}不存在", i.setl_id)))?;
            let stored: Value = serde_json::from_str(&record.output_json)
                .map_err(|e| PlatformError::internal(format!("结算结果无法解读: {e}")))?;
            Ok(Some(answers::settlement_query(
                stored,
                record.status == SettlementStatus::Cancelled,
                record.year,
                &record.institution,
            )))
        }
        T::FeeQuery(i) => fee_query(state, ctx, i).map(Some),
        T::ChronicDrugQuery(i) => chronic_drug_query(state, ctx, i).map(Some),
        T::CumulativeQuery(i) => cumulative(state, ctx, i).map(Some),
    }
}

fn same_visit(
    n: usize,
    visit_id: &str,
    person_no: &str,
    first_visit: &str,
    first_person: &str,
) -> Result<(), PlatformError> {
    if visit_id != first_visit || person_no != first_person {
        return Err(PlatformError::field(
            &format!("feedetail[{n}].mdtrt_id"),
            "同一次上传的明细必须属于同一就诊和同一参保人".into(),
        ));
    }
    Ok(())
}

fn new_line(
    sn: &str,
    batch: &str,
    item: &yibao_fsi::FeeItem,
    disease: Option<String>,
    refund_of: Option<String>,
) -> NewFeeLine {
    NewFeeLine {
        sn: sn.to_owned(),
        batch_no: batch.to_owned(),
        code: item.med_list_codg.clone(),
        local_code: item.medins_list_codg.clone(),
        quantity: item.cnt,
        price: item.pric,
        amount: item.det_item_fee_sumamt,
        occurred_at: item.fee_ocur_time,
        disease_code: disease,
        refund_of,
    }
}

fn upload(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
    lines: Vec<NewFeeLine>,
) -> Result<Option<Value>, PlatformError> {
    let wire: Vec<FeeLine> = lines
        .iter()
        .map(|l| FeeLine {
            sn: l.sn.clone(),
            code: l.code.clone(),
            quantity: l.quantity,
            price: l.price,
            amount: Some(l.amount),
            date: Some(l.occurred_at.date()),
            disease: l.disease_code.clone(),
            refusal: None,
        })
        .collect();
    let splits = service::upload_lines(state, ctx, visit_id, person_no, lines)?;
    let rows: Vec<Value> = splits
        .iter()
        .zip(&wire)
        .map(|(s, line)| fee_result_row(&s.sn, line, &s.split, &s.item))
        .collect();
    Ok(Some(answers::fee_results(rows)))
}

fn settle(
    state: &mut State,
    ctx: &Ctx,
    request: &SettleRequest,
    cert_type: &str,
    cert_no: &str,
) -> Result<Option<Value>, PlatformError> {
    // The certificate presented at settlement must be the visit's person's: a visit cannot be
    // settled against one person's account with another person's card.
    let certificate = Presented {
        cert_type,
        cert_no,
        node: "input.data",
    };
    certificate::check_holder(state, &certificate, request.person_no)?;
    // The answer is built once: stored with the settlement (for 5203, 2208 and replays) and sent.
    let answer = std::cell::RefCell::new(None);
    let render = |settled: &Settled| {
        let output = settlement_output(&settled.settlement, &setl_context(ctx, settled, cert_type));
        let text = output.to_string();
        *answer.borrow_mut() = Some(output);
        text
    };
    let settled = service::settle(state, ctx, request, &render)?;
    let output = answer
        .into_inner()
        .unwrap_or_else(|| settlement_output(&settled.settlement, &setl_context(ctx, &settled, cert_type)));
    Ok(Some(output))
}

fn setl_context(ctx: &Ctx, settled: &Settled, cert_type: &str) -> SetlContext {
    let p = &settled.person;
    let begin = settled.visit.begin_time.date();
    SetlContext {
        mdtrt_id: settled.visit.visit_id.clone(),
        setl_id: settled.settlement_id.clone(),
        psn_no: p.person_no.clone(),
        psn_name: p.name.clone(),
        psn_cert_type: "01".into(),
        certno: p.certno.clone(),
        gend: p.sex,
        naty: p.ethnicity.clone(),
        brdy: p.birth_date,
        age: yibao_settle::age_years(p.birth_date, begin),
        insutype: p.insurance,
        psn_type: p.person_type,
        cvlserv_flag: p.civil_servant,
        setl_time: ctx.now,
        mdtrt_cert_type: cert_type.to_owned(),
        med_type: settled.visit.medical_type,
        medins_setl_id: ctx.msgid.to_owned(),
        clr_optins: ctx.region.admdvs.clone(),
        clr_way: "01".into(),
        clr_type: service::clearing_type(settled.visit.medical_type).to_owned(),
    }
}

fn cancel(
    state: &mut State,
    ctx: &Ctx,
    settlement_id: &str,
    visit_id: Option<&str>,
    person_no: &str,
) -> Result<Option<Value>, PlatformError> {
    let record = service::cancel_settlement(state, ctx, settlement_id, visit_id, person_no)?;
    let output: Value = serde_json::from_str(&record.output_json)
        .map_err(|e| PlatformError::internal(format!("结算结果无法解读: {e}")))?;
    Ok(Some(output))
}

fn reversal(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input2601) -> Result<(), PlatformError> {
    match i.oinfno.as_str() {
        "2207" | "2304" => {
            let not_found = || {
                PlatformError::field(
                    "omsgid",
                    format!("原交易{}(报文{})未成功或不存在,无需冲正", i.oinfno, i.omsgid),
                )
            };
            let settlement_id = state.settlement_id_by_msgid(&i.omsgid)?.ok_or_else(not_found)?;
            // Another institution's message is unknown to the caller: neither its settlement id
            // nor whether it was reversed may show through.
            let (status, institution) = state
                .settlement(&settlement_id)?
                .map(|s| (s.status, s.institution.clone()))
                .ok_or_else(not_found)?;
            if institution != ctx.institution {
                return Err(not_found());
            }
            if status == SettlementStatus::Cancelled {
                // Already reversed (by 2208/2305 or an earlier 2601): reversal is idempotent,
                // for the person it was made for only.
                let person_no = state.settlement(&settlement_id)?.map(|s| s.person_no.clone());
                if person_no.as_deref() != Some(i.psn_no.as_str()) {
                    return Err(PlatformError::field(
                        "input.data.psn_no",
                        format!("人员编号{}与原交易的参保人不符", i.psn_no),
                    ));
                }
                return Ok(());
            }
            service::cancel_settlement(state, ctx, &settlement_id, None, &i.psn_no).map(|_| ())
        }
        other => Err(PlatformError::field(
            "oinfno",
            format!("冲正交易仅适用于结算交易(2207、2304),不适用于{other}"),
        )),
    }
}

fn own_visit_record(
    state: &mut State,
    ctx: &Ctx,
    visit_id: &str,
    person_no: &str,
) -> Result<yibao_store::VisitRecord, PlatformError> {
    match state.visit(visit_id)? {
        Some(v) if v.record.institution == ctx.institution && v.record.person_no == person_no => Ok(v.record.clone()),
        _ => Err(PlatformError::field("mdtrt_id", format!("就诊ID{visit_id}不存在"))),
    }
}

/// 1101: the person is found by the certificate presented, never by person number. A voucher
/// (`mdtrt_cert_type` + `mdtrt_cert_no`) is read by its type ([`certificate`]); a bare
/// `certno` is read as a citizen ID number whatever `psn_cert_type` says, since citizen IDs are
/// the only documents persons are enrolled with (and the spec's own example sends a citizen ID
/// under type "2").
fn person_info(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input1101) -> Result<Value, PlatformError> {
    let person_no = match i.lookup() {
        PersonLookup::Voucher {
            mdtrt_cert_type,
            mdtrt_cert_no,
            card_sn,
        } => {
            if mdtrt_cert_type == "03" && card_sn.is_none() {
                return Err(PlatformError::field(
                    "input.data.card_sn",
                    "社会保障卡(03)须提供卡识别码card_sn".into(),
                ));
            }
            let presented = Presented {
                cert_type: mdtrt_cert_type,
                cert_no: mdtrt_cert_no,
                node: "input.data",
            };
            certificate::person_no_of(state, &presented)?
        }
        PersonLookup::Certificate { certno, .. } => {
            let id = yibao_codes::CitizenId::parse(certno)
                .map_err(|e| PlatformError::field("input.data.certno", e.to_string()))?;
            certificate::person_no_by_citizen_id(state, &id, "input.data.certno")?
        }
    };
    let entry = state
        .person(&person_no)?
        .ok_or_else(|| PlatformError::internal(format!("证件对应的人员{person_no}不存在")))?;
    let p = &entry.record;
    Ok(answers::person_info(&answers::PersonInfo {
        person_no: &p.person_no,
        certno: &p.certno,
        name: &p.name,
        sex: p.sex,
        ethnicity: &p.ethnicity,
        birth_date: p.birth_date,
        age_years: yibao_settle::age_years(p.birth_date, ctx.now.date()),
        account_balance: p.account_balance,
        insurance: p.insurance,
        person_type: p.person_type,
        status: &p.status,
        enrolled_on: p.enrolled_on,
        civil_servant: p.civil_servant,
        insured_admdvs: &p.insured_admdvs,
        employer_name: &p.employer_name,
        groups: &p.groups,
    }))
}

fn benefit_check(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input2001) -> Result<Value, PlatformError> {
    let entry = state
        .person(&i.psn_no)?
        .ok_or_else(|| PlatformError::field("input.data.psn_no", format!("人员编号{}不存在", i.psn_no)))?;
    let p = &entry.record;
    let date = i.begntime.date();
    let (entitled, reason) = if p.insurance != i.insutype {
        (false, format!("参保人未参加险种{}", i.insutype.code()))
    } else if p.status != "1" {
        (false, "参保状态非正常参保".to_owned())
    } else if let Some(from) = p.benefits_from.filter(|f| date < *f) {
        (false, format!("待遇等待期内,自{from}起享受待遇"))
    } else if ctx.region.policy_on(date).is_err() {
        (false, format!("{date}没有生效的待遇政策"))
    } else {
        (true, "可以享受待遇".to_owned())
    };
    Ok(answers::benefit_check(&p.person_no, p.insurance, entitled, &reason))
}

fn catalog_rows(ctx: &Ctx, query: &yibao_fsi::Input1312) -> Result<Value, PlatformError> {
    // 1312: catalog rows in code order, one code or all, at most CATALOG_ROWS_MAX per call. The
    // full downloads (1301–1321) are files ([`crate::exchange::catalog_download`]).
    const CATALOG_ROWS_MAX: usize = 1000;
    let wanted = query.hilist_code.as_deref();
    let mut items: Vec<&yibao_catalog::CatalogItem> = ctx
        .region
        .catalog
        .iter()
        .filter(|item| wanted.is_none_or(|c| item.code.as_str() == c))
        .collect();
    items.sort_by(|a, b| a.code.cmp(&b.code));
    let shown = &items[..items.len().min(CATALOG_ROWS_MAX)];
    Ok(answers::catalog_rows(shown, items.len()))
}

fn dictionary(kind: &str) -> Value {
    let entries: Vec<(&str, &str)> = match kind {
        "insutype" => yibao_codes::InsuranceType::table().collect(),
        "med_type" => yibao_codes::MedicalType::table().collect(),
        "chrgitm_lv" => yibao_codes::ChargeClass::table().collect(),
        "fund_pay_type" => yibao_codes::FundPayType::table().collect(),
        "gend" => yibao_codes::Sex::table().collect(),
        _ => Vec::new(),
    };
    answers::dictionary(kind, entries.into_iter())
}

/// 4101: stores an inpatient's settlement list and groups it with the imported DRG scheme. The
/// settlement must be this institution's, in force, for an inpatient visit, and match the
/// list's visit and person. A re-upload replaces the list and its group.
fn settlement_list(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input4101) -> Result<Value, PlatformError> {
    let scheme = state
        .drg_scheme()?
        .ok_or_else(|| PlatformError::rule("尚未导入DRG分组方案, 经办机构须先执行 yibao drg import".into()))?;
    let settlement = state
        .settlement(&i.setl_id)?
        .filter(|s| s.institution == ctx.institution)
        .ok_or_else(|| PlatformError::field("input.setlinfo.setl_id", format!("结算ID{}不存在", i.setl_id)))?
        .clone();
    if settlement.status != SettlementStatus::Settled {
        return Err(PlatformError::field(
            "input.setlinfo.setl_id",
            format!("结算{}已撤销, 不能上传结算清单", i.setl_id),
        ));
    }
    if settlement.visit_id != i.mdtrt_id {
        return Err(PlatformError::field(
            "input.setlinfo.mdtrt_id",
            format!("就诊ID{}与结算{}的就诊不符", i.mdtrt_id, i.setl_id),
        ));
    }
    if settlement.person_no != i.psn_no {
        return Err(PlatformError::field(
            "input.setlinfo.psn_no",
            format!("人员编号{}与结算{}的参保人不符", i.psn_no, i.setl_id),
        ));
    }
    if settlement.medical_type.setting() != CareSetting::Inpatient {
        return Err(PlatformError::field(
            "input.setlinfo.setl_id",
            format!("结算{}不是住院结算, 结算清单只用于住院", i.setl_id),
        ));
    }
    let visit = state
        .visit(&i.mdtrt_id)?
        .ok_or_else(|| PlatformError::internal(format!("结算{}的就诊{}不存在", i.setl_id, i.mdtrt_id)))?
        .record
        .clone();
    let person = state
        .person(&i.psn_no)?
        .ok_or_else(|| PlatformError::internal(format!("结算{}的参保人{}不存在", i.setl_id, i.psn_no)))?
        .record
        .clone();
    let admitted = visit.begin_time.date();
    let discharged = visit.end_time.unwrap_or(settlement.settled_at).date();
    let sex = match i.gend.as_deref() {
        Some("2") => yibao_drg::Sex::Female,
        Some(_) => yibao_drg::Sex::Male,
        None if person.sex == yibao_codes::Sex::Female => yibao_drg::Sex::Female,
        None => yibao_drg::Sex::Male,
    };
    let age_years = i
        .age
        .unwrap_or_else(|| yibao_settle::age_years(person.birth_date, admitted));
    // 新生儿年龄: as sent, else from the birth date for a patient under one year.
    let age_days = i.nwb_age.or_else(|| {
        let days = (admitted - person.birth_date).num_days();
        (age_years == 0 && (0..366).contains(&days)).then_some(days as u16)
    });
    let los_days = i
        .act_ipt_days
        .unwrap_or_else(|| (discharged - admitted).num_days().clamp(0, 36_600) as u32);
    // The fsi layer has checked the code: 1–5 or 9.
    let discharge_method = yibao_drg::DischargeMethod::from_code(i.dscg_way.as_deref().unwrap_or(""))
        .unwrap_or(yibao_drg::DischargeMethod::Ordered);
    let case = yibao_drg::Case {
        sex,
        age_years,
        age_days,
        birth_weight_g: i.nwb_bir_wt,
        los_days,
        discharge_method,
        diagnoses: i.diagnoses.clone(),
        procedures: i.procedures.clone(),
        ventilation_hours: i.vent_hours,
    };
    let grouping = yibao_drg::group(&scheme.tables, &case);
    let drg = grouping.drg.as_str().to_owned();
    let result = answers::grouped_list(&answers::GroupedList {
        settlement_id: &settlement.settlement_id,
        drg_version: &scheme.version,
        mdc: grouping.mdc.as_ref().map(|c| c.as_str()),
        adrg: grouping.adrg.as_ref().map(|c| c.as_str()),
        drg: &drg,
        reason: grouping.reason.describe(),
        steps: &grouping.steps,
    });
    // What was uploaded and what was grouped, kept together for the annual settlement.
    let list_json = serde_json::to_string(&StoredList { case: &case, list: i })
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    state
        .pending
        .push(WriteOp::UpsertSettlementList(yibao_store::SettlementListRecord {
            settlement_id: settlement.settlement_id.clone(),
            visit_id: visit.visit_id,
            person_no: person.person_no,
            institution: ctx.institution.to_owned(),
            insurance: settlement.insurance,
            discharge_date: discharged,
            drg_version: scheme.version.clone(),
            drg,
            total: settlement.total,
            fund_total: settlement.fund_total,
            grouping_json: result.to_string(),
            list_json,
            uploaded_at: ctx.now,
            msgid: ctx.msgid.to_owned(),
        }));
    Ok(answers::settlement_list(result))
}

/// A settlement list as stored: the upload and the case grouped from it.
#[derive(serde::Serialize)]
struct StoredList<'a> {
    case: &'a yibao_drg::Case,
    list: &'a yibao_fsi::Input4101,
}

fn chronic_filing(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input2503) -> Result<Value, PlatformError> {
    let entry = state
        .person(&i.psn_no)?
        .ok_or_else(|| PlatformError::field("input.data.psn_no", format!("人员编号{}不存在", i.psn_no)))?;
    if entry.record.insurance != i.insutype {
        return Err(PlatformError::field("input.data.insutype", "险种与参保信息不符".into()));
    }
    if entry
        .filings
        .iter()
        .any(|f| f.active && f.disease_code == i.opsp_dise_code)
    {
        return Err(PlatformError::rule(format!("参保人已备案病种{}", i.opsp_dise_code)));
    }
    let filing = ChronicFilingRecord {
        filing_id: ctx.ids.issue('F'),
        person_no: i.psn_no.clone(),
        disease_code: i.opsp_dise_code.clone(),
        disease_name: i.opsp_dise_name.clone(),
        institution: ctx.institution.to_owned(),
        begin_date: i.begndate,
        end_date: i.enddate,
        active: true,
    };
    entry.filings.push(filing.clone());
    state.pending.push(WriteOp::UpsertChronicFiling(filing.clone()));
    Ok(answers::chronic_filing(&filing.filing_id))
}

fn chronic_filing_cancel(state: &mut State, _ctx: &Ctx, i: &yibao_fsi::Input2504) -> Result<(), PlatformError> {
    let entry = state
        .person(&i.psn_no)?
        .ok_or_else(|| PlatformError::field("input.data.psn_no", format!("人员编号{}不存在", i.psn_no)))?;
    let filing = entry
        .filings
        .iter_mut()
        .find(|f| {
            f.active
                && (i.trt_dcla_detl_sn.as_deref() == Some(f.filing_id.as_str())
                    || i.opsp_dise_code.as_deref() == Some(f.disease_code.as_str()))
        })
        .ok_or_else(|| PlatformError::field("input.data.trt_dcla_detl_sn", "没有可撤销的慢特病备案".into()))?;
    filing.active = false;
    let filing = filing.clone();
    state.pending.push(WriteOp::UpsertChronicFiling(filing));
    Ok(())
}

fn filter(
    ctx: &Ctx,
    insurance: Option<yibao_codes::InsuranceType>,
    clearing_type: Option<String>,
    from: NaiveDate,
    to: NaiveDate,
) -> SettlementFilter {
    SettlementFilter {
        institution: ctx.institution.to_owned(),
        insurance,
        clearing_type,
        from,
        to,
        in_force_only: true,
    }
}

fn reconcile_totals(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input3201) -> Result<Value, PlatformError> {
    let f = filter(
        ctx,
        Some(i.insutype),
        Some(i.clr_type.clone()),
        i.stmt_begndate,
        i.stmt_enddate,
    );
    let t = state
        .store
        .settlement_totals(&f)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    let mut differences = Vec::new();
    if t.count != i.fixmedins_setl_cnt {
        differences.push(format!("结算笔数 中心{} 机构{}", t.count, i.fixmedins_setl_cnt));
    }
    for (name, ours, theirs) in [
        ("医疗费总额", t.total, i.medfee_sumamt),
        ("基金支付总额", t.fund_total, i.fund_pay_sumamt),
        ("个人账户支出", t.account_pay + t.mutual_aid_pay, i.acct_pay),
    ] {
        if ours != theirs {
            differences.push(format!("{name} 中心{ours} 机构{theirs}"));
        }
    }
    let (balanced, description) = if differences.is_empty() {
        (
            true,
            format!(
                "对账平:{}笔,医疗费总额{},基金支付{},个人账户{}",
                t.count,
                t.total,
                t.fund_total,
                t.account_pay + t.mutual_aid_pay
            ),
        )
    } else {
        (false, format!("对账不平:{}", differences.join(";")))
    };
    Ok(answers::reconcile_totals(&i.setl_optins, balanced, &description))
}

fn reconcile_detail(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input3202) -> Result<Value, PlatformError> {
    let f = filter(ctx, None, i.clr_type.clone(), i.stmt_begndate, i.stmt_enddate);
    crate::exchange::reconcile_detail(state, ctx, i, f)
}

fn visit_query(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input5201) -> Result<Value, PlatformError> {
    const VISIT_ROWS_MAX: i64 = 500;
    let from = i.begntime.map_or(NaiveDate::MIN, |t| t.date());
    let to = i.endtime.map_or(NaiveDate::MAX, |t| t.date());
    let visits = state
        .store
        .visits_of_person(&i.psn_no, from, to, VISIT_ROWS_MAX)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    let rows: Vec<answers::VisitRow> = visits
        .iter()
        .filter(|v| v.institution == ctx.institution)
        .filter(|v| i.med_type.is_none_or(|t| t == v.medical_type))
        .filter(|v| i.mdtrt_id.as_deref().is_none_or(|id| id == v.visit_id))
        .map(|v| answers::VisitRow {
            visit_id: &v.visit_id,
            person_no: &v.person_no,
            insurance: v.insurance,
            medical_type: v.medical_type,
            begin_time: v.begin_time,
            end_time: v.end_time,
            his_visit_no: &v.his_visit_no,
            disease_code: v.disease_code.as_deref(),
            valid: v.status != VisitStatus::Cancelled,
            status_code: v.status.code(),
        })
        .collect();
    Ok(answers::visits(&rows))
}

fn fee_query(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input5204) -> Result<Value, PlatformError> {
    own_visit_record(state, ctx, &i.mdtrt_id, &i.psn_no)?;
    let entry = state
        .visit(&i.mdtrt_id)?
        .ok_or_else(|| PlatformError::field("mdtrt_id", format!("就诊ID{}不存在", i.mdtrt_id)))?;
    let rows: Vec<answers::FeeRow> = entry
        .lines
        .iter()
        .filter(|l| i.setl_id.is_none() || l.settlement_id == i.setl_id)
        .map(|l| answers::FeeRow {
            sn: &l.sn,
            visit_id: &l.visit_id,
            settlement_id: l.settlement_id.as_deref(),
            code: &l.code,
            local_code: &l.local_code,
            quantity: l.quantity,
            price: l.price,
            amount: l.amount,
            occurred_at: l.occurred_at,
            refund_of: l.refund_of.as_deref(),
            disease_code: l.disease_code.as_deref(),
        })
        .collect();
    Ok(answers::fee_lines(&rows))
}

/// 5205: the person's chronic-disease (门诊慢特病) fee lines at the calling institution within the
/// period, newest visits first.
fn chronic_drug_query(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input5205) -> Result<Value, PlatformError> {
    const VISITS_MAX: i64 = 200;
    const ROWS_MAX: usize = 2_000;
    let from = i.begntime.map_or(NaiveDate::MIN, |t| t.date());
    let to = i.endtime.map_or(NaiveDate::MAX, |t| t.date());
    let visits = state
        .store
        .visits_of_person(&i.psn_no, from, to, VISITS_MAX)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    let mut lines = Vec::new();
    for visit in visits
        .iter()
        .filter(|v| v.institution == ctx.institution && v.medical_type == MedicalType::ChronicOutpatient)
    {
        let settled = state
            .store
            .fee_lines(&visit.visit_id)
            .map_err(|e| PlatformError::internal(e.to_string()))?;
        for l in settled.into_iter().filter(|l| l.settlement_id.is_some()) {
            if lines.len() == ROWS_MAX {
                break;
            }
            lines.push((visit, l));
        }
    }
    let rows: Vec<answers::FeeRow> = lines
        .iter()
        .map(|(visit, l)| answers::FeeRow {
            sn: &l.sn,
            visit_id: &visit.visit_id,
            settlement_id: l.settlement_id.as_deref(),
            code: &l.code,
            local_code: &l.local_code,
            quantity: l.quantity,
            price: l.price,
            amount: l.amount,
            occurred_at: l.occurred_at,
            refund_of: l.refund_of.as_deref(),
            disease_code: l.disease_code.as_deref().or(visit.disease_code.as_deref()),
        })
        .collect();
    Ok(answers::chronic_fee_lines(&rows))
}

/// 5206: a person's year-to-date figures, for an institution that has seen the person (a visit
/// registered there): the figures are the person's, not every institution's to read. Any other
/// person number is answered as unknown, the same as one that does not exist.
fn cumulative(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input5206) -> Result<Value, PlatformError> {
    let unknown = || PlatformError::field("input.data.psn_no", format!("人员编号{}不存在", i.psn_no));
    let visited = state
        .store
        .person_visited(&i.psn_no, ctx.institution)
        .map_err(|e| PlatformError::internal(e.to_string()))?
        || state.visits_pending_for(&i.psn_no, ctx.institution);
    if !visited {
        return Err(unknown());
    }
    let entry = state.person(&i.psn_no)?.ok_or_else(unknown)?;
    let insurance = entry.record.insurance;
    let date = i.cum_ym.unwrap_or(ctx.now.date());
    let year = ctx
        .region
        .policy_on(date)
        .map_or(date.year(), |p| p.insurance_year(date));
    let ytd = state.year_to_date(&i.psn_no, year)?;
    let mut rows = Vec::new();
    for (key, acc) in &ytd.accumulators {
        for (kind, amount) in [("deductible", acc.deductible), ("fund", acc.fund), ("base", acc.base)] {
            rows.push(answers::CumulativeRow {
                insurance,
                year,
                month: date.month(),
                key,
                kind,
                amount,
            });
        }
    }
    Ok(answers::cumulative(&rows))
}
