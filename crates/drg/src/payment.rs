//! DRG payment: local payment tables, the payment standard of a group, and outlier cases.
//!
//! `DRG支付标准 = 费率 × RW (× 医疗机构等级系数)`. Cities publish their parameters in different
//! layouts; [`PaymentTable::from_csv`] recognises the columns by their header names:
//!
//! | Header | Meaning |
//! |---|---|
//! | `DRG编码`, `DRG`, `DRG组编码`, `分组编码` | the DRG code (required) |
//! | `DRG名称`, `DRG组名称`, `分组名称` | its name |
//! | `RW`, `权重`, `初始权重` | relative weight |
//! | `支付标准`, `支付标准（三级）`, `支付标准（职工）`, `支付标准（三级职工）`, `三级医院支付标准`, `二级医院支付标准（职工）` | a payment standard, for all hospitals or one level and/or one insurance scheme |
//! | `费率`, `基础费率`, each with the same qualifiers | a base rate |
//! | `三级医院系数`, `等级系数（三级）` | a hospital-level coefficient |
//! | `低倍临界值（三级）`, `高倍临界值（三级）` | published outlier thresholds |
//! | `病组类型`, `病组标识`, `基础病组`, `中医优势病组`, `备注`, `稳定组`, … | descriptive flags, kept as text |
//!
//! Any other header (a point value `标准分值`, a named hospital tier, a sub-grade such as `三甲`)
//! makes the whole table refused with the header listed: a column that is silently ignored could
//! carry the very standard the caller wants.
//!
//! All numbers are exact decimals ([`ExactDecimal`]); an amount becomes [`Money`] only through
//! [`Rounding::HalfUp`] to the fen (四舍五入), at the one place each standard is produced.

use std::fmt;

use rustc_hash::FxHashMap;
use yibao_money::{Money, Ratio, Rounding};

/// The rounding every payment amount in this module uses: half up to the fen (四舍五入).
pub const PAYMENT_ROUNDING: Rounding = Rounding::HalfUp;

/// The most decimals accepted in a table cell or a rule parameter.
pub const MAX_DECIMALS: u32 = 10;

/// An exact non-negative decimal, `mantissa × 10^-scale`: RWs (which exceed 1), coefficients,
/// multiples and amounts with more decimals than a fen, as the tables publish them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExactDecimal {
    mantissa: i64,
    scale: u32,
}

/// Why a decimal text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("空值")]
    Empty,
    #[error("「{0}」不是非负十进制数")]
    NotANumber(String),
    #[error("「{0}」小数位超过{MAX_DECIMALS}位")]
    TooManyDecimals(String),
    #[error("「{0}」超出范围")]
    OutOfRange(String),
}

impl ExactDecimal {
    pub const ZERO: ExactDecimal = ExactDecimal { mantissa: 0, scale: 0 };

    /// `mantissa × 10^-scale`; `None` if `mantissa` is negative or `scale` exceeds [`MAX_DECIMALS`].
    pub fn new(mantissa: i64, scale: u32) -> Option<ExactDecimal> {
        (mantissa >= 0 && scale <= MAX_DECIMALS).then_some(ExactDecimal { mantissa, scale })
    }

    /// Parses plain decimal digits: `118507`, `0.35`, `311076.612`, `1.00000`. No sign, no
    /// exponent, no thousands separators; surrounding whitespace is ignored.
    pub fn parse(text: &str) -> Result<ExactDecimal, DecimalError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(DecimalError::Empty);
        }
        let (whole, frac) = match t.split_once('.') {
            Some((w, f)) => (w, f),
            None => (t, ""),
        };
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_ok(whole) || !digits_ok(frac) || (t.contains('.') && frac.is_empty()) {
            return Err(DecimalError::NotANumber(t.to_owned()));
        }
        let scale = u32::try_from(frac.len()).unwrap_or(u32::MAX);
        if scale > MAX_DECIMALS {
            return Err(DecimalError::TooManyDecimals(t.to_owned()));
        }
        let mut mantissa: i64 = 0;
        for b in whole.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(|| DecimalError::OutOfRange(t.to_owned()))?;
        }
        Ok(ExactDecimal { mantissa, scale })
    }

    pub fn mantissa(self) -> i64 {
        self.mantissa
    }

    pub fn scale(self) -> u32 {
        self.scale
    }

    pub fn is_zero(self) -> bool {
        self.mantissa == 0
    }

    /// The value in ten-thousandths, if it has at most four decimals (an RW "rounded to 4").
    pub fn ten_thousandths(self) -> Option<i64> {
        if self.scale > 4 {
            let divisor = 10_i64.pow(self.scale - 4);
            return (self.mantissa % divisor == 0).then_some(self.mantissa / divisor);
        }
        self.mantissa.checked_mul(10_i64.pow(4 - self.scale))
    }

    /// The value as an amount, rounded to the fen by `rounding` (311076.612 → 311076.61).
    pub fn to_money(self, rounding: Rounding) -> Money {
        let fen = rounding.div(i128::from(self.mantissa) * 100, 10_i128.pow(self.scale));
        Money::from_fen(i64::try_from(fen).expect("a mantissa below 2^63 has fewer fen than 2^63"))
    }

    /// The exact value of a money amount.
    pub fn from_money(amount: Money) -> Option<ExactDecimal> {
        ExactDecimal::new(amount.fen(), 2)
    }

    /// The exact product; `None` on overflow.
    pub fn checked_mul(self, other: ExactDecimal) -> Option<ExactDecimal> {
        let mut mantissa = i128::from(self.mantissa) * i128::from(other.mantissa);
        let mut scale = self.scale + other.scale;
        // Drop trailing zeros so that exact products stay within range and MAX_DECIMALS.
        while scale > 0 && mantissa % 10 == 0 {
            mantissa /= 10;
            scale -= 1;
        }
        if scale > MAX_DECIMALS {
            return None;
        }
        Some(ExactDecimal {
            mantissa: i64::try_from(mantissa).ok()?,
            scale,
        })
    }

    /// `amount × self`, rounded to the fen by `rounding`; `None` on overflow.
    pub fn times_money(self, amount: Money, rounding: Rounding) -> Option<Money> {
        let product = i128::from(amount.fen()).checked_mul(i128::from(self.mantissa))?;
        let fen = rounding.div(product, 10_i128.pow(self.scale));
        i64::try_from(fen).ok().map(Money::from_fen)
    }
}

impl fmt::Display for ExactDecimal {
    /// The digits as published: `2`, `0.35`, `1.00000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let divisor = 10_i64.pow(self.scale);
        write!(
            f,
            "{}.{:0width$}",
            self.mantissa / divisor,
            self.mantissa % divisor,
            width = self.scale as usize
        )
    }
}

/// A hospital's level (医疗机构等级).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HospitalLevel {
    /// 一级
    Primary,
    /// 二级
    Secondary,
    /// 三级
    Tertiary,
}

impl HospitalLevel {
    pub const ALL: [HospitalLevel; 3] = [
        HospitalLevel::Primary,
        HospitalLevel::Secondary,
        HospitalLevel::Tertiary,
    ];

    /// The level from its number 1..=3.
    pub fn from_number(n: u8) -> Option<HospitalLevel> {
        match n {
            1 => Some(HospitalLevel::Primary),
            2 => Some(HospitalLevel::Secondary),
            3 => Some(HospitalLevel::Tertiary),
            _ => None,
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            HospitalLevel::Primary => "一级",
            HospitalLevel::Secondary => "二级",
            HospitalLevel::Tertiary => "三级",
        }
    }
}

/// The insurance scheme of the patient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// 职工 (employee basic medical insurance)
    Employee,
    /// 居民 (resident basic medical insurance)
    Resident,
}

impl Scheme {
    pub fn name_zh(self) -> &'static str {
        match self {
            Scheme::Employee => "职工",
            Scheme::Resident => "居民",
        }
    }
}

/// Which hospitals and patients a value applies to; `None` means "all".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tier {
    pub level: Option<HospitalLevel>,
    pub scheme: Option<Scheme>,
}

impl Tier {
    pub const ALL: Tier = Tier {
        level: None,
        scheme: None,
    };

    fn label(self) -> String {
        let mut s = String::new();
        if let Some(level) = self.level {
            s.push_str(level.name_zh());
        }
        if let Some(scheme) = self.scheme {
            s.push_str(scheme.name_zh());
        }
        s
    }
}

/// What a recognised column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    Code,
    Name,
    Weight,
    Standard(Tier),
    Rate(Tier),
    Coefficient(HospitalLevel),
    LowThreshold(Tier),
    HighThreshold(Tier),
    /// A descriptive flag (病组类型, 基础病组, 备注, …), kept as text.
    Flag,
}

/// The DRG code column's accepted headers.
const CODE_HEADERS: [&str; 4] = ["DRG编码", "DRG", "DRG组编码", "分组编码"];
const NAME_HEADERS: [&str; 3] = ["DRG名称", "DRG组名称", "分组名称"];
const WEIGHT_HEADERS: [&str; 3] = ["RW", "权重", "初始权重"];
const FLAG_HEADERS: [&str; 12] = [
    "病组类型",
    "病组标识",
    "基础病组",
    "中医优势病组",
    "备注",
    "稳定组",
    "单议病组",
    "同等费率病组",
    "总量控制病组",
    "总控人次",
    "不稳定病组",
    "稳定（玉林）",
];

/// Splits `三级职工`, `三级`, `职工`, `` into a tier; `None` if anything else is left.
fn parse_qualifier(text: &str) -> Option<Tier> {
    let mut rest = text;
    let mut level = None;
    for l in HospitalLevel::ALL {
        if let Some(r) = rest.strip_prefix(l.name_zh()) {
            level = Some(l);
            rest = r;
            break;
        }
    }
    let scheme = match rest {
        "" => None,
        "职工" => Some(Scheme::Employee),
        "居民" => Some(Scheme::Resident),
        _ => return None,
    };
    Some(Tier { level, scheme })
}

/// `支付标准（三级职工）` → ("支付标准", Some("三级职工")); also accepts ASCII parentheses.
fn split_parenthesised(header: &str) -> (&str, Option<&str>) {
    for (open, close) in [("（", "）"), ("(", ")")] {
        if let Some(stripped) = header.strip_suffix(close) {
            if let Some((base, qualifier)) = stripped.split_once(open) {
                return (base, Some(qualifier));
            }
        }
    }
    (header, None)
}

/// Recognises one header, or `None` if it is unknown.
fn classify_header(header: &str) -> Option<ColumnKind> {
    let h = header.trim();
    if CODE_HEADERS.contains(&h) {
        return Some(ColumnKind::Code);
    }
    if NAME_HEADERS.contains(&h) {
        return Some(ColumnKind::Name);
    }
    if WEIGHT_HEADERS.contains(&h) {
        return Some(ColumnKind::Weight);
    }
    if FLAG_HEADERS.contains(&h) {
        return Some(ColumnKind::Flag);
    }
    // `三级医院支付标准（职工）`, `三级医院系数`: the level comes first, as `X级医院`.
    let (prefix_level, h) = match HospitalLevel::ALL.into_iter().find_map(|l| {
        h.strip_prefix(l.name_zh())
            .and_then(|r| r.strip_prefix("医院"))
            .map(|r| (l, r))
    }) {
        Some((l, r)) => (Some(l), r),
        None => (None, h),
    };
    let (base, qualifier) = split_parenthesised(h);
    let mut tier = match qualifier {
        Some(q) => parse_qualifier(q)?,
        None => Tier::ALL,
    };
    if let Some(level) = prefix_level {
        if tier.level.is_some() {
            return None;
        }
        tier.level = Some(level);
    }
    match base {
        "支付标准" => Some(ColumnKind::Standard(tier)),
        "费率" | "基础费率" => Some(ColumnKind::Rate(tier)),
        "系数" | "等级系数" if tier.scheme.is_none() => tier.level.map(ColumnKind::Coefficient),
        "低倍临界值" => Some(ColumnKind::LowThreshold(tier)),
        "高倍临界值" => Some(ColumnKind::HighThreshold(tier)),
        _ => None,
    }
}

/// One DRG's row of a payment table. Empty cells and the marker `无` are absent values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRow {
    pub drg: String,
    pub name: String,
    /// The 1-based line of the row in the file.
    pub line: usize,
    pub weight: Option<ExactDecimal>,
    /// The row says `按项目据实支付`: paid by item, no DRG standard.
    pub fee_for_service: bool,
    pub standards: Vec<(Tier, ExactDecimal)>,
    pub rates: Vec<(Tier, ExactDecimal)>,
    pub coefficients: Vec<(HospitalLevel, ExactDecimal)>,
    pub low_thresholds: Vec<(Tier, ExactDecimal)>,
    pub high_thresholds: Vec<(Tier, ExactDecimal)>,
    /// Descriptive flags as (header, text), non-empty cells only.
    pub flags: Vec<(String, String)>,
}

/// A problem found in a payment table, with the file, the 1-based line and the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentTableError {
    pub file: String,
    pub line: usize,
    /// 1-based column number and header, when the problem is in one cell.
    pub column: Option<(usize, String)>,
    pub message: String,
}

impl fmt::Display for PaymentTableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 第{}行", self.file, self.line)?;
        if let Some((n, header)) = &self.column {
            write!(f, " 第{n}列「{header}」")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for PaymentTableError {}

/// A city's DRG payment table.
#[derive(Clone, Debug)]
pub struct PaymentTable {
    name: String,
    columns: Vec<(String, ColumnKind)>,
    rows: Vec<PaymentRow>,
    index: FxHashMap<String, usize>,
}

/// Marker text in a numeric column meaning "paid by item" (北京2022).
const FEE_FOR_SERVICE: &str = "按项目据实支付";
/// Marker text meaning "no value" (长沙2023 `初始权重`).
const NO_VALUE: &str = "无";

impl PaymentTable {
    /// Reads a table from CSV text (a leading BOM is skipped). `name` is used in error messages.
    /// All problems are reported, not just the first.
    pub fn from_csv(name: &str, text: &str) -> Result<PaymentTable, Vec<PaymentTableError>> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let err = |line: usize, column: Option<(usize, String)>, message: String| PaymentTableError {
            file: name.to_owned(),
            line,
            column,
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            None => return Err(vec![err(1, None, "文件为空，缺少表头".into())]),
            Some(Err(e)) => return Err(vec![err(1, None, format!("CSV格式错误: {e}"))]),
            Some(Ok(h)) => h,
        };
        let headers: Vec<String> = header.iter().map(|h| h.trim().to_owned()).collect();
        let listed = headers.join(",");
        let mut columns = Vec::with_capacity(headers.len());
        let mut unknown = Vec::new();
        for (i, h) in headers.iter().enumerate() {
            match classify_header(h) {
                Some(kind) => columns.push((h.clone(), kind)),
                None => unknown.push(format!("第{}列「{h}」", i + 1)),
            }
        }
        if !unknown.is_empty() {
            return Err(vec![err(
                1,
                None,
                format!("无法识别的表格格式：未知列 {}；表头为 {listed}", unknown.join("、")),
            )]);
        }
        let code_columns = columns.iter().filter(|(_, k)| *k == ColumnKind::Code).count();
        if code_columns != 1 {
            return Err(vec![err(
                1,
                None,
                format!("表头须恰有一列DRG编码（实有{code_columns}列）；表头为 {listed}"),
            )]);
        }
        for (i, (h, kind)) in columns.iter().enumerate() {
            if *kind != ColumnKind::Flag && columns[..i].iter().any(|(_, k)| k == kind) {
                return Err(vec![err(
                    1,
                    Some((i + 1, h.clone())),
                    format!("重复的列；表头为 {listed}"),
                )]);
            }
        }
        if !columns.iter().any(|(_, k)| {
            matches!(
                k,
                ColumnKind::Weight | ColumnKind::Standard(_) | ColumnKind::Rate(_) | ColumnKind::Coefficient(_)
            )
        }) {
            return Err(vec![err(
                1,
                None,
                format!("表头中没有权重、支付标准、费率或系数列；表头为 {listed}"),
            )]);
        }

        let mut errors = Vec::new();
        let mut rows: Vec<PaymentRow> = Vec::new();
        let mut index: FxHashMap<String, usize> = FxHashMap::default();
        for record in records {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    let message = match e.kind() {
                        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                            format!("本行有{len}列，表头有{expected_len}列")
                        }
                        _ => format!("CSV格式错误: {e}"),
                    };
                    errors.push(err(line, None, message));
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line() as usize);
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            let mut row = PaymentRow {
                drg: String::new(),
                name: String::new(),
                line,
                weight: None,
                fee_for_service: false,
                standards: Vec::new(),
                rates: Vec::new(),
                coefficients: Vec::new(),
                low_thresholds: Vec::new(),
                high_thresholds: Vec::new(),
                flags: Vec::new(),
            };
            for (i, ((h, kind), cell)) in columns.iter().zip(record.iter()).enumerate() {
                let cell = cell.trim();
                let at = || Some((i + 1, h.clone()));
                match kind {
                    ColumnKind::Code => {
                        if cell.is_empty() || cell.len() > 8 || !cell.bytes().all(|b| b.is_ascii_alphanumeric()) {
                            errors.push(err(line, at(), format!("DRG编码「{cell}」无效（应为1–8位字母数字）")));
                        }
                        row.drg = cell.to_owned();
                    }
                    ColumnKind::Name => row.name = cell.to_owned(),
                    ColumnKind::Flag => {
                        if !cell.is_empty() {
                            row.flags.push((h.clone(), cell.to_owned()));
                        }
                    }
                    _ => {
                        if cell.is_empty() || cell == NO_VALUE {
                            continue;
                        }
                        if cell == FEE_FOR_SERVICE {
                            row.fee_for_service = true;
                            continue;
                        }
                        let value = match ExactDecimal::parse(cell) {
                            Ok(v) => v,
                            Err(e) => {
                                errors.push(err(line, at(), e.to_string()));
                                continue;
                            }
                        };
                        match *kind {
                            ColumnKind::Weight => row.weight = Some(value),
                            ColumnKind::Standard(t) => row.standards.push((t, value)),
                            ColumnKind::Rate(t) => row.rates.push((t, value)),
                            ColumnKind::Coefficient(l) => row.coefficients.push((l, value)),
                            ColumnKind::LowThreshold(t) => row.low_thresholds.push((t, value)),
                            ColumnKind::HighThreshold(t) => row.high_thresholds.push((t, value)),
                            ColumnKind::Code | ColumnKind::Name | ColumnKind::Flag => {}
                        }
                    }
                }
            }
            if row.drg.is_empty() {
                continue; // already reported
            }
            if let Some(&first) = index.get(&row.drg) {
                errors.push(err(
                    line,
                    None,
                    format!("DRG编码{}重复（首次出现在第{}行）", row.drg, rows[first].line),
                ));
                continue;
            }
            index.insert(row.drg.clone(), rows.len());
            rows.push(row);
        }
        if errors.is_empty() {
            Ok(PaymentTable {
                name: name.to_owned(),
                columns,
                rows,
                index,
            })
        } else {
            Err(errors)
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The recognised columns, in file order.
    pub fn columns(&self) -> &[(String, ColumnKind)] {
        &self.columns
    }

    pub fn rows(&self) -> &[PaymentRow] {
        &self.rows
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn row(&self, drg: &str) -> Option<&PaymentRow> {
        self.index.get(drg).map(|&i| &self.rows[i])
    }

    /// The payment standard from the table alone (no caller base rate).
    pub fn standard(&self, drg: &str, level: HospitalLevel, scheme: Scheme) -> Option<Money> {
        self.quote(drg, level, scheme, None).map(|q| q.amount)
    }

    /// The payment standard of `drg` for a hospital of `level` and a patient of `scheme`, using
    /// the most specific data the table has, and saying how it was found:
    ///
    /// 1. a published standard for the tier: (level, scheme), then (level), then (scheme), then
    ///    the table-wide standard × the level coefficient (if the table has coefficients);
    /// 2. else a published rate for the tier, same order, × RW (× the level coefficient unless
    ///    the rate is already per level);
    /// 3. else `base_rate` × RW (× the level coefficient).
    ///
    /// Each product is rounded half up to the fen ([`PAYMENT_ROUNDING`]) once, at the end. A zero
    /// value is treated as absent (the tables write 0 for 未覆盖组), and a row marked
    /// `按项目据实支付` has no standard.
    pub fn quote(
        &self,
        drg: &str,
        level: HospitalLevel,
        scheme: Scheme,
        base_rate: Option<Money>,
    ) -> Option<StandardQuote> {
        let row = self.row(drg)?;
        if row.fee_for_service {
            return None;
        }
        let tiers = [
            Tier {
                level: Some(level),
                scheme: Some(scheme),
            },
            Tier {
                level: Some(level),
                scheme: None,
            },
            Tier {
                level: None,
                scheme: Some(scheme),
            },
            Tier::ALL,
        ];
        let find = |values: &[(Tier, ExactDecimal)]| {
            tiers.iter().find_map(|t| {
                values
                    .iter()
                    .find(|(vt, v)| vt == t && !v.is_zero())
                    .map(|&(vt, v)| (vt, v))
            })
        };
        let coefficient = row
            .coefficients
            .iter()
            .find(|(l, v)| *l == level && !v.is_zero())
            .map(|&(_, v)| v);
        let has_coefficients = !row.coefficients.is_empty();
        let rounding = PAYMENT_ROUNDING.name_zh();
        let drg_name = &row.drg;

        if let Some((tier, value)) = find(&row.standards) {
            let amount_of = |exact: ExactDecimal| exact.to_money(PAYMENT_ROUNDING);
            if tier.level.is_some() || !has_coefficients {
                let amount = amount_of(value);
                return Some(StandardQuote {
                    amount,
                    explanation: format!("{drg_name}{}支付标准{value}，{rounding}到分={amount}", tier.label()),
                });
            }
            let c = coefficient?;
            let exact = value.checked_mul(c)?;
            let amount = amount_of(exact);
            return Some(StandardQuote {
                amount,
                explanation: format!(
                    "{drg_name}{}支付标准{value}×{}系数{c}={exact}，{rounding}到分={amount}",
                    tier.label(),
                    level.name_zh()
                ),
            });
        }
        let weight = row.weight.filter(|w| !w.is_zero())?;
        let (rate, rate_label, rate_has_level) = match find(&row.rates) {
            Some((tier, value)) => (value, format!("{}费率", tier.label()), tier.level.is_some()),
            None => (ExactDecimal::from_money(base_rate?)?, "基础费率".to_owned(), false),
        };
        let mut exact = rate.checked_mul(weight)?;
        let mut formula = format!("{rate_label}{rate}×RW{weight}");
        if !rate_has_level && has_coefficients {
            let c = coefficient?;
            exact = exact.checked_mul(c)?;
            formula.push_str(&format!("×{}系数{c}", level.name_zh()));
        }
        let amount = exact.to_money(PAYMENT_ROUNDING);
        Some(StandardQuote {
            amount,
            explanation: format!("{drg_name}支付标准={formula}={exact}，{rounding}到分={amount}"),
        })
    }
}

/// A payment standard and how it was obtained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StandardQuote {
    pub amount: Money,
    pub explanation: String,
}

/// The largest outlier multiple accepted: local rules use 0.3–3; 100 keeps every threshold of a
/// standard within [`yibao_money::AMOUNT_FEN_MAX`] far inside `i64`.
pub const MAX_OUTLIER_MULTIPLE: i64 = 100;

/// A local outlier rule (高倍率/低倍率): cost ≤ `low_multiple` × standard is 低倍率, paid the cost
/// capped at the standard; cost ≥ `high_multiple` × standard is 高倍率, paid the standard plus
/// `compensation` of the cost above the high threshold; anything else is paid the standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutlierRule {
    low_multiple: ExactDecimal,
    high_multiple: ExactDecimal,
    compensation: Ratio,
}

impl OutlierRule {
    /// `None` unless `low_multiple < high_multiple` (the two bands must not overlap) and
    /// `high_multiple` ≤ [`MAX_OUTLIER_MULTIPLE`].
    pub fn new(low_multiple: ExactDecimal, high_multiple: ExactDecimal, compensation: Ratio) -> Option<OutlierRule> {
        let scale = low_multiple.scale.max(high_multiple.scale);
        let widen = |d: ExactDecimal| i128::from(d.mantissa) * 10_i128.pow(scale - d.scale);
        let max = i128::from(MAX_OUTLIER_MULTIPLE) * 10_i128.pow(scale);
        (widen(low_multiple) < widen(high_multiple) && widen(high_multiple) <= max).then_some(OutlierRule {
            low_multiple,
            high_multiple,
            compensation,
        })
    }

    pub fn low_multiple(&self) -> ExactDecimal {
        self.low_multiple
    }

    pub fn high_multiple(&self) -> ExactDecimal {
        self.high_multiple
    }

    pub fn compensation(&self) -> Ratio {
        self.compensation
    }

    /// The 低倍率 threshold for a standard, rounded half up to the fen. The standard is the
    /// rounded one ([`Money`]); a table that computes thresholds from an unrounded standard can
    /// differ by a fen (吉林2022 does, on about half its rows).
    ///
    /// Panics only for a standard beyond `i64::MAX / 100` fen, far above any real amount.
    pub fn low_threshold(&self, standard: Money) -> Money {
        self.low_multiple
            .times_money(standard, PAYMENT_ROUNDING)
            .expect("standard × multiple within range")
    }

    /// The 高倍率 threshold for a standard, rounded half up to the fen (see [`Self::low_threshold`]).
    pub fn high_threshold(&self, standard: Money) -> Money {
        self.high_multiple
            .times_money(standard, PAYMENT_ROUNDING)
            .expect("standard × multiple within range")
    }
}

/// How a case was classed against its group's standard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaseKind {
    /// 正常病例
    Normal,
    /// 低倍率病例
    Low,
    /// 高倍率病例
    High,
}

impl CaseKind {
    pub fn name_zh(self) -> &'static str {
        match self {
            CaseKind::Normal => "正常病例",
            CaseKind::Low => "低倍率病例",
            CaseKind::High => "高倍率病例",
        }
    }
}

/// The DRG payment for one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CasePayment {
    pub kind: CaseKind,
    pub payment: Money,
    /// The arithmetic in Chinese, e.g. `病组支付标准9080.56×2=18161.12(高倍率临界值)；…`.
    pub explanation: String,
}

/// Classes a case by its total cost (`item_cost`, expected non-negative) against `standard` and
/// computes its payment. Both thresholds
/// and the compensated excess are rounded half up to the fen ([`PAYMENT_ROUNDING`]).
pub fn case_payment(standard: Money, item_cost: Money, rule: &OutlierRule) -> CasePayment {
    let low = rule.low_threshold(standard);
    let high = rule.high_threshold(standard);
    let (lm, hm) = (rule.low_multiple, rule.high_multiple);
    let thresholds =
        format!("病组支付标准{standard}×{lm}={low}(低倍率临界值)；病组支付标准{standard}×{hm}={high}(高倍率临界值)");
    if item_cost <= low {
        let payment = item_cost.min(standard);
        CasePayment {
            kind: CaseKind::Low,
            payment,
            explanation: format!(
                "{thresholds}；住院费用{item_cost}≤{low}，属低倍率病例；按实际费用支付且不超过支付标准：min({item_cost}, {standard})={payment}"
            ),
        }
    } else if item_cost >= high {
        let excess = item_cost - high;
        let compensated = excess.times(rule.compensation, PAYMENT_ROUNDING);
        let payment = standard + compensated;
        let ratio = rule.compensation;
        let rounding = PAYMENT_ROUNDING.name_zh();
        CasePayment {
            kind: CaseKind::High,
            payment,
            explanation: format!(
                "{thresholds}；住院费用{item_cost}≥{high}，属高倍率病例；支付=病组支付标准{standard}+(住院费用{item_cost}−高倍率临界值{high})×补偿比例{ratio}={standard}+{excess}×{ratio}={standard}+{compensated}({rounding})={payment}"
            ),
        }
    } else {
        CasePayment {
            kind: CaseKind::Normal,
            payment: standard,
            explanation: format!(
                "{thresholds}；{low}<住院费用{item_cost}<{high}，属正常病例；按病组支付标准支付{standard}"
            ),
        }
    }
}
