//! Files exchanged with institutions: 9101 keeps what an institution uploads, 3202 reads its
//! 表200 and answers with a 表201 file, 1301–1321 answer with the catalog as a file, and 9102
//! hands any of them back to the institution they belong to, until they expire.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::Value;
use yibao_codes::ItemKind;
use yibao_fsi::answers;
use yibao_fsi::files::{self, DetailResult, DetailRow, ResultRow};
use yibao_fsi::output::{datetime_text, price_number, ratio_number};
use yibao_money::Money;
use yibao_store::{ExchangeFileRecord, SettlementFilter, SettlementRecord, WriteOp, EXCHANGE_FILE_BYTES_MAX};

use crate::service::Ctx;
use crate::state::State;
use crate::PlatformError;

/// How long a file can be downloaded (`dld_endtime`) after it was kept.
pub const EXCHANGE_FILE_KEEP_DAYS: i64 = 7;
/// The most settlements one 3202 may cover: the period must be shortened past it.
pub const DETAIL_SETTLEMENTS_MAX: i64 = 100_000;

const ORIGIN_UPLOAD: &str = "upload";
const ORIGIN_RECONCILIATION: &str = "reconciliation";
const ORIGIN_CATALOG: &str = "catalog";

/// A file ready for 9102: its name and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadedFile {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Live files one institution may hold, and their bytes: what one institution keeps (a loop of
/// uploads or catalog downloads) cannot fill the disk for the others.
pub const FILES_PER_INSTITUTION_MAX: i64 = 1_000;
pub const FILE_BYTES_PER_INSTITUTION_MAX: i64 = 256 * 1024 * 1024;

/// Queues a file for the institution and says where to fetch it (`file_qury_no`, `filename`,
/// `dld_endtime`). Refused, changing nothing, when the file is larger than the store keeps or
/// the institution's files would pass their limits (files of the batch being built are not
/// counted yet: a batch is at most a few hundred requests).
fn keep(
    state: &mut State,
    ctx: &Ctx,
    filename: String,
    origin: &str,
    bytes: Vec<u8>,
) -> Result<(String, String, String), PlatformError> {
    if bytes.len() > EXCHANGE_FILE_BYTES_MAX {
        return Err(PlatformError::rule(format!(
            "文件{}字节,超过平台保存上限{EXCHANGE_FILE_BYTES_MAX}字节,请缩短对账期间",
            bytes.len()
        )));
    }
    let (count, used) = state
        .store
        .exchange_file_usage(ctx.institution, ctx.now)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    if count >= FILES_PER_INSTITUTION_MAX || used + bytes.len() as i64 > FILE_BYTES_PER_INSTITUTION_MAX {
        return Err(PlatformError::rule(format!(
            "本机构未过期文件{count}个共{used}字节,已达上限({FILES_PER_INSTITUTION_MAX}个或{FILE_BYTES_PER_INSTITUTION_MAX}字节),请待文件过期后再试"
        )));
    }
    let file_no = ctx.ids.issue('F');
    let expires_at = ctx.now + Duration::days(EXCHANGE_FILE_KEEP_DAYS);
    state.pending.push(WriteOp::InsertExchangeFile(ExchangeFileRecord {
        file_no: file_no.clone(),
        institution: ctx.institution.to_owned(),
        filename: filename.clone(),
        origin: origin.to_owned(),
        bytes,
        created_at: ctx.now,
        expires_at,
    }));
    Ok((file_no, filename, datetime_text(expires_at)))
}

/// A node's own `fixmedins_code`, when sent, must be the envelope's.
fn same_institution(ctx: &Ctx, code: Option<&str>, field: &str) -> Result<(), PlatformError> {
    match code {
        Some(code) if code != ctx.institution => Err(PlatformError::field(
            field,
            format!("机构编号{code}与报文的fixmedins_code{}不符", ctx.institution),
        )),
        _ => Ok(()),
    }
}

/// 9101 文件上传.
pub fn upload(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input9101) -> Result<Value, PlatformError> {
    same_institution(ctx, i.fixmedins_code.as_deref(), "input.fsUploadIn.fixmedins_code")?;
    let (file_no, filename, until) = keep(state, ctx, i.filename.clone(), ORIGIN_UPLOAD, i.bytes.clone())?;
    let file = answers::KeptFile {
        file_no: &file_no,
        filename: &filename,
        until: &until,
    };
    Ok(answers::file_uploaded(&file, ctx.institution))
}

/// The institution's own file, not expired. Another institution's file is answered as unknown:
/// its existence is not theirs to learn.
fn own_file(state: &mut State, ctx: &Ctx, file_no: &str, field: &str) -> Result<ExchangeFileRecord, PlatformError> {
    let file = state
        .store
        .exchange_file(file_no)
        .map_err(|e| PlatformError::internal(e.to_string()))?
        .filter(|f| f.institution == ctx.institution)
        .ok_or_else(|| PlatformError::field(field, format!("文件查询号{file_no}不存在")))?;
    if file.expires_at < ctx.now {
        return Err(PlatformError::field(
            field,
            format!("文件查询号{file_no}已于{}过期", datetime_text(file.expires_at)),
        ));
    }
    Ok(file)
}

/// 9102 文件下载.
pub fn download(state: &mut State, ctx: &Ctx, i: &yibao_fsi::Input9102) -> Result<DownloadedFile, PlatformError> {
    same_institution(ctx, i.fixmedins_code.as_deref(), "input.fsDownloadIn.fixmedins_code")?;
    let file = own_file(state, ctx, &i.file_qury_no, "input.fsDownloadIn.file_qury_no")?;
    Ok(DownloadedFile {
        filename: file.filename,
        bytes: file.bytes,
    })
}

/// The amounts one side states for a settlement row.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Amounts {
    total: Money,
    fund: Money,
    account: Money,
}

/// One row the centre expects in the institution's file: a settlement made in the period, or
/// the refund of one cancelled in the period (whenever it was made), with the amounts negated.
struct CentreRow<'a> {
    settlement: &'a SettlementRecord,
    refund: bool,
    amounts: Amounts,
}

fn centre_rows<'a>(settled: &'a [SettlementRecord], cancelled: &'a [SettlementRecord]) -> Vec<CentreRow<'a>> {
    let amounts = |s: &SettlementRecord| Amounts {
        total: s.total,
        fund: s.fund_total,
        account: s.account_pay + s.mutual_aid_pay,
    };
    let mut rows = Vec::with_capacity(settled.len() + cancelled.len());
    for s in settled {
        rows.push(CentreRow {
            settlement: s,
            refund: false,
            amounts: amounts(s),
        });
    }
    for s in cancelled {
        let a = amounts(s);
        rows.push(CentreRow {
            settlement: s,
            refund: true,
            amounts: Amounts {
                total: Money::ZERO - a.total,
                fund: Money::ZERO - a.fund,
                account: Money::ZERO - a.account,
            },
        });
    }
    rows
}

/// What differs between the centre's row and the institution's, for the memo; empty when they
/// agree. A refund row the institution wrote with positive amounts is read as negative.
fn differences(centre: &CentreRow, theirs: &DetailRow) -> Vec<String> {
    let sign = |m: Money| {
        if centre.refund && !m.is_negative() {
            Money::ZERO - m
        } else {
            m
        }
    };
    let mut out = Vec::new();
    for (name, ours, stated) in [
        ("医疗费总额", centre.amounts.total, sign(theirs.medfee_sumamt)),
        ("基金支付", centre.amounts.fund, sign(theirs.fund_pay_sumamt)),
        ("个人账户", centre.amounts.account, sign(theirs.acct_pay)),
    ] {
        if ours != stated {
            out.push(format!("{name}中心{ours}机构{stated}"));
        }
    }
    if theirs.mdtrt_id != centre.settlement.visit_id {
        out.push(format!(
            "就诊ID中心{}机构{}",
            centre.settlement.visit_id, theirs.mdtrt_id
        ));
    }
    if theirs.psn_no != centre.settlement.person_no {
        out.push(format!(
            "人员编号中心{}机构{}",
            centre.settlement.person_no, theirs.psn_no
        ));
    }
    out
}

fn centre_result(centre: &CentreRow, result: DetailResult, memo: Option<String>) -> ResultRow {
    let s = centre.settlement;
    ResultRow {
        psn_no: s.person_no.clone(),
        mdtrt_id: s.visit_id.clone(),
        setl_id: s.settlement_id.clone(),
        msgid: if centre.refund {
            s.cancel_msgid.clone()
        } else {
            Some(s.msgid.clone())
        },
        stmt_rslt: result,
        refd_setl_flag: centre.refund,
        memo,
        medfee_sumamt: centre.amounts.total,
        fund_pay_sumamt: centre.amounts.fund,
        acct_pay: centre.amounts.account,
    }
}

/// Matches the institution's 表200 rows against the centre's settlements of the period, row by
/// row, keyed by (`setl_id`, `refd_setl_flag`). Centre rows come first, in settlement order,
/// then the rows only the institution has, in file order.
fn match_rows(centre: &[CentreRow], theirs: &[DetailRow]) -> Vec<ResultRow> {
    // The first row of each key is the one matched; later copies are the institution's extra.
    let mut by_key: HashMap<(&str, bool), usize> = HashMap::with_capacity(theirs.len());
    for (n, row) in theirs.iter().enumerate() {
        by_key.entry((row.setl_id.as_str(), row.refd_setl_flag)).or_insert(n);
    }
    let mut used = vec![false; theirs.len()];
    let mut out = Vec::with_capacity(centre.len() + theirs.len());
    for c in centre {
        let key = (c.settlement.settlement_id.as_str(), c.refund);
        match by_key.get(&key) {
            Some(&n) => {
                used[n] = true;
                let diffs = differences(c, &theirs[n]);
                if diffs.is_empty() {
                    out.push(centre_result(c, DetailResult::Balanced, None));
                } else {
                    out.push(centre_result(c, DetailResult::Differs, Some(diffs.join(";"))));
                }
            }
            None => out.push(centre_result(
                c,
                DetailResult::OnlyCentre,
                Some("医药机构无此结算".to_owned()),
            )),
        }
    }
    for (n, row) in theirs.iter().enumerate() {
        let first = by_key.get(&(row.setl_id.as_str(), row.refd_setl_flag)) == Some(&n);
        let memo = match (first, used[n]) {
            (true, true) => continue,
            (true, false) => "中心无此结算",
            (false, _) => "医药机构重复上传此结算",
        };
        out.push(ResultRow {
            psn_no: row.psn_no.clone(),
            mdtrt_id: row.mdtrt_id.clone(),
            setl_id: row.setl_id.clone(),
            msgid: None,
            stmt_rslt: DetailResult::OnlyInstitution,
            refd_setl_flag: row.refd_setl_flag,
            memo: Some(memo.to_owned()),
            medfee_sumamt: row.medfee_sumamt,
            fund_pay_sumamt: row.fund_pay_sumamt,
            acct_pay: row.acct_pay,
        });
    }
    out
}

/// 3202 医药机构费用结算对明细账.
pub fn reconcile_detail(
    state: &mut State,
    ctx: &Ctx,
    i: &yibao_fsi::Input3202,
    filter: SettlementFilter,
) -> Result<Value, PlatformError> {
    let file = own_file(state, ctx, &i.file_qury_no, "input.data.file_qury_no")?;
    let theirs = files::read_detail_file(&file.bytes)?;
    let mut every = filter.clone();
    every.in_force_only = false;
    let too_many = || {
        PlatformError::field(
            "input.data.stmt_enddate",
            format!("对账期间结算或退费超过{DETAIL_SETTLEMENTS_MAX}笔,请缩短对账期间"),
        )
    };
    let settled = state
        .store
        .settlements(&every, DETAIL_SETTLEMENTS_MAX + 1)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    if settled.len() as i64 > DETAIL_SETTLEMENTS_MAX {
        return Err(too_many());
    }
    let cancelled = state
        .store
        .settlements_cancelled(&every, DETAIL_SETTLEMENTS_MAX + 1)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    if cancelled.len() as i64 > DETAIL_SETTLEMENTS_MAX {
        return Err(too_many());
    }
    let mut in_force = filter;
    in_force.in_force_only = true;
    let totals = state
        .store
        .settlement_totals(&in_force)
        .map_err(|e| PlatformError::internal(e.to_string()))?;
    let centre = centre_rows(&settled, &cancelled);
    let rows = match_rows(&centre, &theirs);
    let count = |r: DetailResult| rows.iter().filter(|row| row.stmt_rslt == r).count();
    let (balanced, only_centre, only_institution, differs) = (
        count(DetailResult::Balanced),
        count(DetailResult::OnlyCentre),
        count(DetailResult::OnlyInstitution),
        count(DetailResult::Differs),
    );
    let totals_agree = totals.count == i.fixmedins_setl_cnt
        && totals.total == i.medfee_sumamt
        && totals.fund_total == i.fund_pay_sumamt
        && totals.cash_pay == i.cash_payamt;
    let all_rows_agree = balanced == rows.len();
    let name = format!("{}_201.txt", i.file_qury_no);
    let zipped = files::result_file(&name, &rows)?;
    let (file_no, filename, until) = keep(state, ctx, format!("{name}.zip"), ORIGIN_RECONCILIATION, zipped)?;
    let description = format!(
        "明细{}行: 平{balanced} 中心多{only_centre} 医药机构多{only_institution} 不一致{differs}; 中心在结{}笔 医疗费总额{} 基金支付{} 现金{}",
        rows.len(),
        totals.count,
        totals.total,
        totals.fund_total,
        totals.cash_pay
    );
    let file = answers::KeptFile {
        file_no: &file_no,
        filename: &filename,
        until: &until,
    };
    Ok(answers::reconcile_detail(
        &i.setl_optins,
        totals_agree && all_rows_agree,
        &description,
        &file,
    ))
}

/// The catalog kind a download transaction asks for, when the region's catalog holds it.
fn catalog_kind(infno: &str) -> Option<ItemKind> {
    match infno {
        "1301" => Some(ItemKind::Drug),
        "1302" => Some(ItemKind::HerbalPiece),
        "1305" | "1321" => Some(ItemKind::ServiceItem),
        "1306" => Some(ItemKind::Consumable),
        _ => None,
    }
}

/// 1301–1321 目录下载: the region's catalog entries of the kind, as a ZIP of tab-separated rows
/// (`hilist_code, hilist_name, chrgitm_lv, selfpay_prop, pric_uplmt_amt, lmt_used_flag`), in code
/// order. The catalog carries no per-entry versions, so every download is complete whatever
/// `ver` the institution has.
pub fn catalog_download(state: &mut State, ctx: &Ctx, infno: &str) -> Result<Value, PlatformError> {
    let kind = catalog_kind(infno).ok_or_else(|| {
        PlatformError::field(
            "infno",
            format!("本统筹区医保目录不含{infno}目录(提供1301西药中成药、1302中药饮片、1305/1321医疗服务项目、1306医用耗材)"),
        )
    })?;
    let mut items: Vec<&yibao_catalog::CatalogItem> = ctx
        .region
        .catalog
        .iter()
        .filter(|item| item.code.kind() == kind)
        .collect();
    items.sort_by(|a, b| a.code.cmp(&b.code));
    let mut text = String::with_capacity(items.len() * 96);
    for item in &items {
        let cells = [
            item.code.as_str().to_owned(),
            item.name.clone(),
            item.class.code().to_owned(),
            ratio_number(item.first_self_pay).to_string(),
            item.price_cap
                .map_or("null".to_owned(), |p| price_number(p).to_string()),
            if item.restriction == yibao_catalog::Restriction::default() {
                "0"
            } else {
                "1"
            }
            .to_owned(),
        ];
        text.push_str(&cells.join("\t"));
        text.push_str("\r\n");
    }
    let name = format!("{infno}_{}.txt", ctx.now.format("%Y%m%d%H%M%S"));
    let zipped = files::zip_text(&name, &text)?;
    let (file_no, filename, until) = keep(state, ctx, format!("{name}.zip"), ORIGIN_CATALOG, zipped)?;
    let file = answers::KeptFile {
        file_no: &file_no,
        filename: &filename,
        until: &until,
    };
    Ok(answers::catalog_file(&file, items.len()))
}
