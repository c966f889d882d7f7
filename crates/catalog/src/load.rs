//! Loading a catalog from the region's published table (CSV).
//!
//! Columns, with a header row (order free, unknown columns refused):
//! `code,name,class,first_self_pay,first_self_pay_by_insurance,price_cap,sex,age_min,age_max,
//! level_min,inpatient_only,insurance_types,days_max`. Only `code`, `name` and `class` are
//! required; empty cells mean "no restriction". `first_self_pay_by_insurance` is
//! `310:0.05;390:0.10`, `insurance_types` is `310|390`.

use yibao_codes::{ChargeClass, HospitalLevel, InsuranceType, ItemCode, Sex};
use yibao_money::{Price, Ratio};

use crate::{Catalog, CatalogItem, Restriction};

/// The most items one catalog may hold: the national lists together hold well under a million.
pub const CATALOG_ITEMS_MAX: usize = 2_000_000;

const COLUMNS: &[&str] = &[
    "code",
    "name",
    "class",
    "first_self_pay",
    "first_self_pay_by_insurance",
    "price_cap",
    "sex",
    "age_min",
    "age_max",
    "level_min",
    "inpatient_only",
    "insurance_types",
    "days_max",
];

/// A catalog row that could not be read, with its line and column.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("目录第{line}行 {column}: {message}")]
pub struct CatalogError {
    pub line: u64,
    pub column: String,
    pub message: String,
}

impl Catalog {
    /// Reads a catalog table. Every bad cell is reported, up to 100 errors.
    pub fn from_csv(text: &str) -> Result<Catalog, Vec<CatalogError>> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut errors = Vec::new();
        let headers = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(vec![error(1, "header", e.to_string())]),
        };
        let mut index = [usize::MAX; COLUMNS.len()];
        for (position, name) in headers.iter().enumerate() {
            match COLUMNS.iter().position(|c| *c == name) {
                Some(i) => index[i] = position,
                None => errors.push(error(1, name, "未知的列名".into())),
            }
        }
        for required in ["code", "name", "class"] {
            if index[column_index(required)] == usize::MAX {
                errors.push(error(1, required, "缺少必需的列".into()));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let mut catalog = Catalog::new();
        for record in reader.records() {
            if errors.len() >= 100 {
                break;
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    errors.push(error(line, "row", e.to_string()));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            if catalog.len() >= CATALOG_ITEMS_MAX {
                errors.push(error(line, "row", format!("目录条目超过上限{CATALOG_ITEMS_MAX}")));
                break;
            }
            let cell = |name: &str| {
                let i = index[column_index(name)];
                if i == usize::MAX {
                    ""
                } else {
                    record.get(i).unwrap_or("")
                }
            };
            let mut row = RowReader {
                line,
                errors: &mut errors,
            };
            if let Some(item) = row.item(&cell) {
                if catalog.get(item.code.as_str()).is_some() {
                    errors.push(error(line, "code", format!("编码{}重复", item.code)));
                } else {
                    catalog.insert(item);
                }
            }
        }
        if errors.is_empty() {
            Ok(catalog)
        } else {
            Err(errors)
        }
    }
}

fn column_index(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).expect("known column")
}

fn error(line: u64, column: &str, message: String) -> CatalogError {
    CatalogError {
        line,
        column: column.chars().take(40).collect(),
        message,
    }
}

struct RowReader<'a> {
    line: u64,
    errors: &'a mut Vec<CatalogError>,
}

impl RowReader<'_> {
    fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors.push(error(self.line, column, message.into()));
    }

    fn optional<T, E: std::fmt::Display>(
        &mut self,
        column: &str,
        text: &str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<Option<T>> {
        if text.is_empty() {
            return Some(None);
        }
        match parse(text) {
            Ok(v) => Some(Some(v)),
            Err(e) => {
                self.fail(column, e.to_string());
                None
            }
        }
    }

    fn item<'c>(&mut self, cell: &impl Fn(&str) -> &'c str) -> Option<CatalogItem> {
        let before = self.errors.len();
        let code = ItemCode::parse(cell("code"))
            .map_err(|e| self.fail("code", e.to_string()))
            .ok();
        let name = cell("name");
        if name.is_empty() || name.chars().count() > 200 {
            self.fail("name", "名称不能为空且不超过200字");
        }
        let class = ChargeClass::parse(cell("class"))
            .map_err(|e| self.fail("class", e.to_string()))
            .ok();
        let first_self_pay = self.optional("first_self_pay", cell("first_self_pay"), Ratio::parse);
        let by_insurance = self.by_insurance(cell("first_self_pay_by_insurance"));
        let price_cap = self.optional("price_cap", cell("price_cap"), Price::parse);
        let sex = self.optional("sex", cell("sex"), Sex::parse);
        let age_min = self.optional("age_min", cell("age_min"), str::parse::<u16>);
        let age_max = self.optional("age_max", cell("age_max"), str::parse::<u16>);
        let level_min = self.optional("level_min", cell("level_min"), HospitalLevel::parse);
        let inpatient_only = self.optional("inpatient_only", cell("inpatient_only"), parse_flag);
        let insurance_types = self.insurance_list(cell("insurance_types"));
        let days_max = self.optional("days_max", cell("days_max"), str::parse::<u16>);
        if self.errors.len() > before {
            return None;
        }
        let class = class?;
        let first_self_pay = first_self_pay?.unwrap_or(Ratio::ZERO);
        if class != ChargeClass::B && !first_self_pay.is_zero() {
            self.fail("first_self_pay", "只有乙类项目有先行自付比例");
            return None;
        }
        Some(CatalogItem {
            code: code?,
            name: name.to_owned(),
            class,
            first_self_pay,
            first_self_pay_by_insurance: by_insurance?,
            price_cap: price_cap?,
            restriction: Restriction {
                sex: sex?,
                age_years_min: age_min?,
                age_years_max: age_max?,
                level_min: level_min?,
                inpatient_only: inpatient_only?.unwrap_or(false),
                insurance_types: insurance_types?,
                days_max: days_max?,
            },
        })
    }

    fn by_insurance(&mut self, text: &str) -> Option<Vec<(InsuranceType, Ratio)>> {
        let mut out = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((insurance, ratio)) = pair.split_once(':') else {
                self.fail("first_self_pay_by_insurance", "格式应为 险种:比例;险种:比例");
                return None;
            };
            match (InsuranceType::parse(insurance), Ratio::parse(ratio)) {
                (Ok(i), Ok(r)) => out.push((i, r)),
                (Err(e), _) => self.fail("first_self_pay_by_insurance", e.to_string()),
                (_, Err(e)) => self.fail("first_self_pay_by_insurance", e.to_string()),
            }
        }
        Some(out)
    }

    fn insurance_list(&mut self, text: &str) -> Option<Vec<InsuranceType>> {
        let mut out = Vec::new();
        for code in text.split('|').map(str::trim).filter(|p| !p.is_empty()) {
            match InsuranceType::parse(code) {
                Ok(i) => out.push(i),
                Err(e) => {
                    self.fail("insurance_types", e.to_string());
                    return None;
                }
            }
        }
        Some(out)
    }
}

fn parse_flag(text: &str) -> Result<bool, String> {
    match text {
        "1" | "true" | "是" | "Y" => Ok(true),
        "0" | "false" | "否" | "N" => Ok(false),
        _ => Err("应为1(是)或0(否)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_table_with_restrictions() {
        let text = "code,name,class,first_self_pay,first_self_pay_by_insurance,price_cap,sex,level_min,days_max\n\
            XB03ACY199B002010104718,右旋糖酐铁注射液,乙类,0.10,310:0.05,20.5,,2,14\n\
            003401000230600,牵引,甲类,,,,,,\n";
        let catalog = Catalog::from_csv(text).unwrap();
        assert_eq!(catalog.len(), 2);
        let drug = catalog.get("XB03ACY199B002010104718").unwrap();
        assert_eq!(drug.first_self_pay_for(InsuranceType::EmployeeBasic), Ratio::percent(5));
        assert_eq!(
            drug.first_self_pay_for(InsuranceType::ResidentBasic),
            Ratio::percent(10)
        );
        assert_eq!(drug.restriction.level_min, Some(HospitalLevel::Level2));
        assert_eq!(drug.restriction.days_max, Some(14));
    }

    #[test]
    fn every_bad_cell_is_reported_with_its_line() {
        let text = "code,name,class,first_self_pay\n\
            XB03ACY199B002010104718,药,乙类,0.1234567\n\
            bad,名,甲类,\n\
            003401000230600,牵引,丁类,\n\
            003401000230600,牵引,甲类,0.1\n";
        let errors = Catalog::from_csv(text).unwrap_err();
        let described: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            described,
            vec![
                "目录第2行 first_self_pay: 小数位数超过4位",
                "目录第3行 code: 医保目录编码“bad”格式不正确:应以X、Z(药品)、C(耗材)、T(饮片)或数字(服务项目)开头",
                "目录第4行 class: 代码“丁类”不是有效的收费项目等级",
                "目录第5行 first_self_pay: 只有乙类项目有先行自付比例",
            ]
        );
    }

    #[test]
    fn unknown_and_missing_columns_are_refused() {
        let errors = Catalog::from_csv("code,nam\n").unwrap_err();
        assert_eq!(errors[0].to_string(), "目录第1行 nam: 未知的列名");
        assert!(errors.iter().any(|e| e.column == "name"));
    }
}
