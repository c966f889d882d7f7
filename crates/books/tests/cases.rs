//! Worked cases kept as data (`tests/data/cases.txt`): events as a bureau's records give them,
//! beside the trial balances, indicators and warnings the books must then show. The file's header
//! describes the format; this runner only reads it and compares.

use yibao_books::{
    fund_indicators, Account, Book, GovernmentLevel, Ledger, Month, Payer, Period, Posting, Receipt, TransferDirection,
    WarningThresholds,
};
use yibao_money::Money;

const CASES: &str = include_str!("data/cases.txt");

fn month(text: &str) -> Month {
    let (y, m) = text.split_once('-').unwrap_or_else(|| panic!("month “{text}”"));
    Month::new(y.parse().unwrap(), m.parse().unwrap()).unwrap()
}

fn period(text: &str) -> Period {
    if text.contains('-') {
        Period::Month(month(text))
    } else {
        Period::Year(text.parse().unwrap())
    }
}

fn book(text: &str) -> Book {
    Book::from_code(text).unwrap()
}

fn money(text: &str) -> Money {
    Money::parse_yuan(text).unwrap_or_else(|_| panic!("amount “{text}”"))
}

fn payer(text: &str) -> Payer {
    match text {
        "employer" => Payer::Employer,
        "individual" => Payer::Individual,
        _ => panic!("payer “{text}”"),
    }
}

fn level(text: &str) -> GovernmentLevel {
    match text {
        "central" => GovernmentLevel::Central,
        "provincial" => GovernmentLevel::Provincial,
        "municipal" => GovernmentLevel::Municipal,
        "county" => GovernmentLevel::County,
        _ => panic!("level “{text}”"),
    }
}

/// Builds the posting of one event line.
fn event(words: &[&str], last: Option<&Posting>) -> Result<Posting, yibao_books::BooksError> {
    match words {
        ["opening", b, m, a] => Posting::opening_balance(book(b), month(m), money(a)),
        ["contribution", b, m, p, a] => Posting::contribution(book(b), month(m), payer(p), money(a)),
        ["split", b, m, p, pooled, account] => {
            Posting::contribution_split(book(b), month(m), payer(p), money(pooled), money(account))
        }
        ["subsidy", b, m, l, r, a] => {
            let receipt = match *r {
                "received" => Receipt::Received,
                "receivable" => Receipt::Receivable,
                _ => panic!("receipt “{r}”"),
            };
            Posting::fiscal_subsidy(book(b), month(m), level(l), receipt, money(a))
        }
        ["collected", b, m, l, a] => Posting::fiscal_subsidy_collected(book(b), month(m), level(l), money(a)),
        ["settlement", m, paid @ ..] => {
            let paid: Vec<(Book, Money)> = paid
                .iter()
                .map(|p| {
                    let (b, a) = p.split_once('=').unwrap();
                    (book(b), money(a))
                })
                .collect();
            Posting::settlement(month(m), &paid)
        }
        ["reverse-last", m] => last.expect("a posting to reverse").reversal(month(m)),
        ["cleared", b, m, a] => Posting::institution_payment_cleared(book(b), month(m), money(a)),
        ["interest", b, m, a] => Posting::interest(book(b), month(m), money(a)),
        ["transfer", from, to, m, a] => Posting::fund_transfer(book(from), book(to), month(m), money(a)),
        ["region-in", b, m, region, a] => Posting::regional_transfer(
            book(b),
            month(m),
            TransferDirection::In,
            region.parse().unwrap(),
            money(a),
        ),
        ["region-out", b, m, region, a] => Posting::regional_transfer(
            book(b),
            month(m),
            TransferDirection::Out,
            region.parse().unwrap(),
            money(a),
        ),
        _ => panic!("unknown event {words:?}"),
    }
}

struct Case {
    name: String,
    ledger: Ledger,
    last: Option<Posting>,
    thresholds: WarningThresholds,
    checks: usize,
}

impl Case {
    fn command(&mut self, head: &str, body: &[&str]) {
        let words: Vec<&str> = head.split_whitespace().collect();
        let context = format!("case “{}”, “{head}”", self.name);
        match words.as_slice() {
            ["close", p] => {
                self.ledger
                    .close(period(p))
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
            }
            ["refuse", ..] => {
                let (event_text, message) = head["refuse".len()..].split_once("=>").expect("refuse … => message");
                let words: Vec<&str> = event_text.split_whitespace().collect();
                let result = event(&words, self.last.as_ref()).and_then(|p| self.ledger.post(p));
                let error = result.expect_err(&context);
                assert_eq!(error.to_string(), message.trim(), "{context}");
                self.checks += 1;
            }
            ["thresholds"] => {
                self.thresholds = toml::from_str(&body.join("\n")).unwrap_or_else(|e| panic!("{context}: {e}"));
                self.thresholds.validate().unwrap();
            }
            ["expect", "trial", b, through] => self.expect_trial(book(b), month(through), body, &context),
            ["expect", "indicators", b, p] => self.expect_indicators(book(b), period(p), body, &context),
            ["expect", "warnings", b, p] => {
                let totals = self.ledger.totals();
                let got: Vec<String> = fund_indicators(&totals, book(b), period(p))
                    .warnings(&self.thresholds)
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                let expected: Vec<String> = body.iter().filter(|l| **l != "none").map(|l| l.to_string()).collect();
                assert_eq!(got, expected, "{context}");
                self.checks += 1;
            }
            _ => {
                let posting = event(&words, self.last.as_ref()).unwrap_or_else(|e| panic!("{context}: {e}"));
                self.ledger
                    .post(posting.clone())
                    .unwrap_or_else(|e| panic!("{context}: {e}"));
                self.last = Some(posting);
            }
        }
    }

    fn expect_trial(&mut self, book: Book, through: Month, body: &[&str], context: &str) {
        let trial = self.ledger.trial_balance(book, through);
        trial.assert_balanced();
        let mut listed = Vec::new();
        for line in body {
            let [account, debit, credit, balance] = line.split_whitespace().collect::<Vec<_>>()[..] else {
                panic!("{context}: trial row “{line}”");
            };
            let account = Account::from_id(account).unwrap();
            let row = trial
                .rows
                .iter()
                .find(|r| r.account == account)
                .expect("account in the chart");
            let got = (row.debit_total, row.credit_total, row.balance);
            assert_eq!(
                got,
                (money(debit), money(credit), money(balance)),
                "{context}: {account}"
            );
            listed.push(account);
        }
        for row in trial.rows.iter().filter(|r| !listed.contains(&r.account)) {
            assert!(
                row.debit_total.is_zero() && row.credit_total.is_zero(),
                "{context}: {} has turnover but is not listed",
                row.account
            );
        }
        self.checks += 1;
    }

    fn expect_indicators(&mut self, book: Book, period: Period, body: &[&str], context: &str) {
        let totals = self.ledger.totals();
        let got = fund_indicators(&totals, book, period);
        let optional = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
        for pair in body.iter().flat_map(|line| line.split_whitespace()) {
            let (key, expected) = pair.split_once('=').unwrap();
            let actual = match key {
                "income" => got.income.to_string(),
                "expenditure" => got.expenditure.to_string(),
                "current" => got.current_balance.to_string(),
                "accumulated" => got.accumulated_balance.to_string(),
                "average" => got.average_monthly_expenditure.to_string(),
                "window" => format!("{}..{}", got.cover_window.0, got.cover_window.1),
                "cover" => optional(got.months_of_cover.map(|m| m.to_string())),
                "income_growth" => optional(got.income_growth.map(|p| p.to_string())),
                "expenditure_growth" => optional(got.expenditure_growth.map(|p| p.to_string())),
                _ => panic!("{context}: unknown indicator {key}"),
            };
            assert_eq!(actual, expected, "{context}: {key}");
        }
        self.checks += 1;
    }
}

#[test]
fn worked_cases() {
    let lines: Vec<&str> = CASES.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
    let mut cases = Vec::new();
    let mut i = 0;
    let mut case: Option<Case> = None;
    while i < lines.len() {
        let head = lines[i];
        i += 1;
        if head.trim().is_empty() {
            continue;
        }
        assert!(!head.starts_with(' '), "indented line without a command: “{head}”");
        let start = i;
        while i < lines.len() && lines[i].starts_with(' ') {
            i += 1;
        }
        let body: Vec<&str> = lines[start..i].iter().map(|l| l.trim()).collect();
        if let Some(name) = head.strip_prefix("case ") {
            cases.extend(case.take());
            case = Some(Case {
                name: name.to_owned(),
                ledger: Ledger::new(),
                last: None,
                thresholds: WarningThresholds::default(),
                checks: 0,
            });
            continue;
        }
        case.as_mut().expect("a case line first").command(head, &body);
    }
    cases.extend(case);
    assert_eq!(cases.len(), 3);
    for case in &cases {
        assert!(case.checks >= 3, "case “{}” checks too little", case.name);
    }
}

#[test]
fn thresholds_refuse_unknown_keys_and_float_noise() {
    let misspelt = toml::from_str::<WarningThresholds>("months_of_cover_minimum = 6");
    assert!(misspelt.is_err());
    let exact: WarningThresholds = toml::from_str("months_of_cover_min = 4.5\nmonths_of_cover_max = \"24\"").unwrap();
    assert_eq!(exact.months_of_cover_min.unwrap().tenths(), 45);
    assert_eq!(exact.months_of_cover_max.unwrap().tenths(), 240);
    assert!(toml::from_str::<WarningThresholds>("months_of_cover_min = 4.55").is_err());
    let inverted: WarningThresholds = toml::from_str("months_of_cover_min = 30\nmonths_of_cover_max = 24").unwrap();
    assert!(inverted.validate().is_err());
}
