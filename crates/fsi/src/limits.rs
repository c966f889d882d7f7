//! Named limits: how many elements a call may carry, and field lengths from the spec's tables.
//!
//! Lengths are in characters (Unicode scalar values), as the spec's `str N` columns are read by
//! every client we have seen: a 50-character Chinese name fits a 50-character field.

/// The most fee lines (`feedetail[]`) one 2204 or 2301 call may carry, in lines. Larger bills
/// are uploaded in several calls.
pub const FEEDETAIL_MAX: usize = 1000;

/// The most rows one 2302 call may revoke, in rows (one per fee line).
pub const FEE_REVOKE_MAX: usize = FEEDETAIL_MAX;

/// The most diagnoses (`diseinfo[]`) one call may carry, in diagnoses.
pub const DISEINFO_MAX: usize = 100;

/// The largest page a catalog query (1312) may ask for, in rows.
pub const PAGE_SIZE_MAX: i64 = 1000;

/// The page size a catalog query gets when it names none, in rows.
pub const PAGE_SIZE_DEFAULT: i64 = 100;

/// The shortest and longest transaction code, in characters ("1101" … "2203A", "13203").
pub const INFNO_CHARS_MIN: usize = 4;
pub const INFNO_CHARS_MAX: usize = 6;

/// The largest value of a `num 2` field (weeks of gestation, birth order, diagnosis order).
pub const TWO_DIGIT_MAX: i64 = 99;

/// Identifiers: psn_no, mdtrt_id, setl_id, feedetl_sn, chrg_bchno, ipt_otp_no, msgid, … (30).
pub const ID_CHARS: usize = 30;
/// Dictionary codes: insutype, med_type, psn_type, caty, matn_type, clr_type, … (6).
pub const CODE_CHARS: usize = 6;
/// Short dictionary codes and flags: diag_type, dscg_way, mdtrt_cert_type, … (3).
pub const SHORT_CODE_CHARS: usize = 3;
/// Administrative division codes (医保区划, 6 digits).
pub const ADMDVS_CHARS: usize = 6;
/// Certificate and voucher numbers: mdtrt_cert_no, certno (50).
pub const CERT_NO_CHARS: usize = 50;
/// 卡识别码 card_sn (32).
pub const CARD_SN_CHARS: usize = 32;
/// Names of people: psn_name, dr_name, bilg_dr_name, coner_name, … (50).
pub const PERSON_NAME_CHARS: usize = 50;
/// Telephone numbers (50).
pub const TEL_CHARS: usize = 50;
/// Department names (100).
pub const DEPT_NAME_CHARS: usize = 100;
/// Diagnosing department in diseinfo (50).
pub const DIAG_DEPT_CHARS: usize = 50;
/// Diagnosis codes (ICD-10 医保版) (20).
pub const DIAG_CODE_CHARS: usize = 20;
/// Diagnosis names in diseinfo (100).
pub const DIAG_NAME_CHARS: usize = 100;
/// 住院主诊断名称 dscg_maindiag_name (300).
pub const MAINDIAG_NAME_CHARS: usize = 300;
/// Disease (病种) and operation names: dise_name, oprn_oprt_name (500).
pub const DISE_NAME_CHARS: usize = 500;
/// National catalog codes: med_list_codg, hilist_code (50).
pub const LIST_CODE_CHARS: usize = 50;
/// The institution's own item codes: medins_list_codg (150).
pub const MEDINS_LIST_CODE_CHARS: usize = 150;
/// Short descriptions: sin_dos_dscr, used_frqu_dscr, medc_way_dscr, adm_diag_dscr, addr (200).
pub const DESCRIPTION_CHARS: usize = 200;
/// Memos: memo, adm_cond (500).
pub const MEMO_CHARS: usize = 500;
/// 主要病情描述 main_cond_dscr (1000).
pub const MAIN_COND_CHARS: usize = 1000;
/// 扩展内容 exp_content (4000).
pub const EXP_CONTENT_CHARS: usize = 4000;
/// Institution names (200).
pub const INSTITUTION_NAME_CHARS: usize = 200;
/// 发票号 invono (20).
pub const INVONO_CHARS: usize = 20;
/// 目录版本号 ver (50).
pub const VERSION_CHARS: usize = 50;
/// Sign-in fields: opter_no, mac (20).
pub const SIGN_IN_FIELD_CHARS: usize = 20;
/// Sign-in `ip` (spec 20; 46 accepted, the longest textual IPv6 address).
pub const IP_CHARS: usize = 46;

/// 文件名 (`filename` of 9101/9102), 200 per the spec.
pub const FILENAME_CHARS: usize = 200;
