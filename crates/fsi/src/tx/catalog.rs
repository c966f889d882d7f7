//! 1301–1321 目录下载 and 目录查询, 1901 字典表查询.
//!
//! The reference lists these transactions but not their tables; the shapes here are the minimal
//! ones the client code we read sends, and each choice is written on its type.

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use super::root;
use crate::error::FsiError;
use crate::limits::{ADMDVS_CHARS, ID_CHARS, LIST_CODE_CHARS, PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, VERSION_CHARS};

/// The largest page number a catalog query may ask for.
pub const PAGE_NUM_MAX: i64 = 1_000_000;

/// The transactions that download a catalog file by version: 1301 西药中成药, 1302 中药饮片,
/// 1303 医疗机构制剂, 1304 民族药品, 1305 医疗服务项目, 1306 医用耗材, 1307 疾病与诊断,
/// 1308 手术操作, 1309 门诊慢特病种, 1310 按病种付费病种, 1311 日间手术病种, 1313 肿瘤形态学,
/// 1314 中医疾病, 1315 中医证候, 1320 中药配方颗粒, 1321 医疗服务项目(新). 1316–1319 are
/// match and limit queries with other shapes and are not covered.
pub const CATALOG_DOWNLOAD_INFNOS: &[&str] = &[
    "1301", "1302", "1303", "1304", "1305", "1306", "1307", "1308", "1309", "1310", "1311", "1313", "1314", "1315",
    "1320", "1321",
];

/// 1301–1311 (and the other [`CATALOG_DOWNLOAD_INFNOS`]) 目录下载, node `input.data`.
///
/// One field: `ver` (版本号, 50, required), the version the institution already has; "0" asks
/// for everything. The answer is a file reference for 9102.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input1301 {
    pub ver: String,
}

impl Input1301 {
    pub fn parse(input: &Value) -> Result<Input1301, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input1301 {
            ver: data.req_text("ver", VERSION_CHARS)?,
        })
    }
}

/// 1312 医保目录信息查询, node `input.data`: a paged query of catalog entries.
///
/// Every criterion is optional; `query_date` absent means "today" (the service's clock, not
/// read here); `page_num` defaults to 1 and `page_size` to [`PAGE_SIZE_DEFAULT`], at most
/// [`PAGE_SIZE_MAX`] rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input1312 {
    /// 查询日期: entries valid on this day.
    pub query_date: Option<NaiveDate>,
    pub fixmedins_code: Option<String>,
    /// 医保目录编码 (50).
    pub hilist_code: Option<String>,
    /// 参保机构医保区划 (6).
    pub insu_admdvs: Option<String>,
    /// 开始日期.
    pub begndate: Option<NaiveDate>,
    /// 有效标志.
    pub vali_flag: Option<bool>,
    /// 更新时间: entries changed after this instant.
    pub updt_time: Option<NaiveDateTime>,
    /// 当前页数, from 1.
    pub page_num: i64,
    /// 本页数据量.
    pub page_size: i64,
}

impl Input1312 {
    pub fn parse(input: &Value) -> Result<Input1312, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input1312 {
            query_date: data.date("query_date")?,
            fixmedins_code: data.text("fixmedins_code", ID_CHARS)?,
            hilist_code: data.text("hilist_code", LIST_CODE_CHARS)?,
            insu_admdvs: data.text("insu_admdvs", ADMDVS_CHARS)?,
            begndate: data.date("begndate")?,
            vali_flag: data.flag("vali_flag")?,
            updt_time: data.datetime("updt_time")?,
            page_num: data.integer("page_num", "当前页数", 1, PAGE_NUM_MAX)?.unwrap_or(1),
            page_size: data
                .integer("page_size", "本页数据量", 1, PAGE_SIZE_MAX)?
                .unwrap_or(PAGE_SIZE_DEFAULT),
        })
    }
}

/// 1901 字典表查询, node `input.data`. The wire names are camelCase here (`parentValue`,
/// `valiFlag`), as in the spec.
///
/// The spec marks all five fields required; only `type` is, since the others are filters with
/// an obvious "no filter" meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input1901 {
    /// 字典类型 (30), e.g. "insutype", "med_type".
    pub r#type: String,
    /// 父字典键值 (10), wire `parentValue`.
    pub parent_value: Option<String>,
    /// 行政区划 (6).
    pub admdvs: Option<String>,
    /// 查询日期.
    pub date: Option<NaiveDate>,
    /// 有效标志, wire `valiFlag`.
    pub vali_flag: Option<bool>,
}

/// 父字典键值 length (10).
const PARENT_VALUE_CHARS: usize = 10;

impl Input1901 {
    pub fn parse(input: &Value) -> Result<Input1901, FsiError> {
        let data = root(input)?.child("data")?;
        Ok(Input1901 {
            r#type: data.req_text("type", ID_CHARS)?,
            parent_value: data.text("parentValue", PARENT_VALUE_CHARS)?,
            admdvs: data.text("admdvs", ADMDVS_CHARS)?,
            date: data.date("date")?,
            vali_flag: data.flag("valiFlag")?,
        })
    }
}
