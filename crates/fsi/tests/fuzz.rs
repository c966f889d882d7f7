//! No input makes the edge panic, and every refusal names a field and a rule.
//!
//! Two generators: arbitrary bytes, and valid requests (one per transaction) mutated by random
//! deletions, replacements with random JSON (deeply nested, huge strings, odd numbers),
//! insertions under known field names, stringified subtrees and blown-up lists.

mod common;

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use yibao_fsi::{parse_envelope, FsiError, TransactionInput, ENVELOPE_BYTES_MAX, FEEDETAIL_MAX, SUPPORTED_INFNOS};

/// Field names worth inserting: they reach parsers that an unknown key never would.
const KNOWN_KEYS: &[&str] = &[
    "input",
    "data",
    "feedetail",
    "diseinfo",
    "mdtrtinfo",
    "dscginfo",
    "adminfo",
    "signIn",
    "signOut",
    "psn_no",
    "mdtrt_id",
    "cnt",
    "pric",
    "det_item_fee_sumamt",
    "med_type",
    "insutype",
    "infno",
    "msgid",
    "inf_time",
    "fixmedins_code",
    "begntime",
    "exp_content",
    "init_feedetl_sn",
    "acct_used_flag",
    "mdtrt_cert_no",
    "certno",
    "cum_ym",
    "oinfno",
    "enc_type",
];

fn check(error: &FsiError) -> Result<(), TestCaseError> {
    prop_assert!(!error.field.is_empty(), "empty field in {error:?}");
    prop_assert!(!error.message.is_empty(), "empty message in {error:?}");
    Ok(())
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Numbers as raw text: exponents, 30-digit mantissas, -0.
        "-?[0-9]{1,30}(\\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?"
            .prop_filter_map("a JSON number", |t| serde_json::from_str::<Value>(&t).ok()),
        ".{0,40}".prop_map(Value::String),
        prop::sample::select(vec![
            "null",
            "NULL",
            "",
            " ",
            "0",
            "1",
            "-1",
            "0000",
            "01",
            "1.1234567",
            "99",
            "NaN",
            "1e5",
            "\u{0}",
            "2023-09-01 12:00:00",
            "20230901120000",
            "2023-02-30",
            "20230901",
            "{\"data\":{}}",
            "[]",
            "2203A",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        // Huge strings, multi-byte included.
        (1usize..200_000, prop::sample::select(vec!['9', 'a', '医', '\u{1F600}']))
            .prop_map(|(n, c)| Value::String(std::iter::repeat_n(c, n).collect())),
    ]
}

/// `depth` levels of alternating or uniform objects and arrays around a leaf.
fn nested(depth: usize, objects: bool, alternate: bool, leaf: Value) -> Value {
    let mut v = leaf;
    for i in 0..depth {
        v = if objects ^ (alternate && i % 2 == 0) {
            json!({ "data": v })
        } else {
            Value::Array(vec![v])
        };
    }
    v
}

fn value() -> impl Strategy<Value = Value> {
    let tree = leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KNOWN_KEYS.to_vec()), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect::<Map<_, _>>())),
        ]
    });
    // Deep, but not so deep that dropping the value (recursive in serde_json) could matter.
    let deep = (1usize..400, any::<bool>(), any::<bool>(), leaf()).prop_map(|(d, o, a, l)| nested(d, o, a, l));
    prop_oneof![4 => leaf(), 3 => tree, 1 => deep]
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path in `v`, breadth first, at most `limit` of them. Iterative.
fn paths(v: &Value, limit: usize) -> Vec<Vec<Step>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < out.len() && out.len() < limit {
        let path = out[i].clone();
        if let Some(node) = get(v, &path) {
            match node {
                Value::Object(map) => {
                    for k in map.keys() {
                        let mut p = path.clone();
                        p.push(Step::Key(k.clone()));
                        out.push(p);
                    }
                }
                Value::Array(items) => {
                    for j in 0..items.len().min(8) {
                        let mut p = path.clone();
                        p.push(Step::Index(j));
                        out.push(p);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    out
}

fn get<'v>(mut v: &'v Value, path: &[Step]) -> Option<&'v Value> {
    for step in path {
        v = match step {
            Step::Key(k) => v.get(k)?,
            Step::Index(i) => v.get(*i)?,
        };
    }
    Some(v)
}

fn get_mut<'v>(mut v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    for step in path {
        v = match step {
            Step::Key(k) => v.get_mut(k)?,
            Step::Index(i) => v.get_mut(*i)?,
        };
    }
    Some(v)
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(usize),
    Replace(usize, Value),
    Insert(usize, &'static str, Value),
    Stringify(usize),
    Repeat(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        (any::<usize>(), prop::sample::select(KNOWN_KEYS.to_vec()), value())
            .prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        any::<usize>().prop_map(Mutation::Stringify),
        (any::<usize>(), 0usize..=FEEDETAIL_MAX + 2).prop_map(|(i, n)| Mutation::Repeat(i, n)),
    ]
}

fn apply(root: &mut Value, m: &Mutation) {
    let all = paths(root, 4096);
    let pick = |i: usize| all[i % all.len()].clone();
    match m {
        Mutation::Delete(i) => {
            let path = pick(*i);
            if let Some((last, parent)) = path.split_last() {
                match (get_mut(root, parent), last) {
                    (Some(Value::Object(map)), Step::Key(k)) => {
                        map.remove(k);
                    }
                    (Some(Value::Array(items)), Step::Index(j)) if *j < items.len() => {
                        items.remove(*j);
                    }
                    _ => {}
                }
            }
        }
        Mutation::Replace(i, v) => {
            if let Some(slot) = get_mut(root, &pick(*i)) {
                *slot = v.clone();
            }
        }
        Mutation::Insert(i, k, v) => {
            if let Some(Value::Object(map)) = get_mut(root, &pick(*i)) {
                map.insert((*k).to_owned(), v.clone());
            }
        }
        Mutation::Stringify(i) => {
            if let Some(slot) = get_mut(root, &pick(*i)) {
                *slot = Value::String(slot.to_string());
            }
        }
        Mutation::Repeat(i, n) => {
            if let Some(Value::Array(items)) = get_mut(root, &pick(*i)) {
                if let Some(first) = items.first().cloned() {
                    items.resize(*n, first);
                }
            }
        }
    }
}

fn fixture() -> impl Strategy<Value = (&'static str, Value)> {
    prop::sample::select(common::valid_inputs())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(body in prop::collection::vec(any::<u8>(), 0..4096), path in prop::option::of(".{0,8}")) {
        if let Err(e) = parse_envelope(&body, path.as_deref()) {
            check(&e)?;
        }
    }

    #[test]
    fn json_shaped_text_never_panics(body in "[\\[\\]{}\":,0-9a-z_ .eE+\\-\\\\n]{0,2000}") {
        if let Err(e) = parse_envelope(body.as_bytes(), None) {
            check(&e)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn mutated_requests_never_panic(
        (infno, input) in fixture(),
        mutations in prop::collection::vec(mutation(), 1..5),
        use_path in any::<bool>(),
    ) {
        let mut body = common::envelope(infno, input);
        for m in &mutations {
            apply(&mut body, m);
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        match parse_envelope(&bytes, use_path.then_some(infno)) {
            Ok(envelope) => {
                prop_assert!(bytes.len() <= ENVELOPE_BYTES_MAX);
                prop_assert!(envelope.input.is_object());
                if let Err(e) = TransactionInput::parse(&envelope.infno, &envelope.input) {
                    check(&e)?;
                }
            }
            Err(e) => check(&e)?,
        }
        // Every typed parser, on whatever `input` became, straight from the value (nesting
        // beyond serde_json's parser limit included).
        let input = body.get("input").cloned().unwrap_or(Value::Null);
        for code in SUPPORTED_INFNOS {
            if let Err(e) = TransactionInput::parse(code, &input) {
                check(&e)?;
            }
        }
    }
}

#[test]
fn a_full_upload_fits_the_body_limit_with_room() {
    let lines: Vec<Value> = (0..FEEDETAIL_MAX)
        .map(|i| common::fee_line_2204(&i.to_string()))
        .collect();
    let body = serde_json::to_vec(&common::envelope("2204", json!({ "feedetail": lines }))).unwrap();
    assert!(body.len() * 2 < ENVELOPE_BYTES_MAX, "{} bytes", body.len());
    let envelope = parse_envelope(&body, None).unwrap();
    assert!(
        matches!(TransactionInput::parse("2204", &envelope.input), Ok(TransactionInput::OutpatientFees(f)) if f.feedetail.len() == FEEDETAIL_MAX)
    );
}

#[test]
fn deep_values_straight_into_every_parser() {
    for depth in [127, 128, 129, 1000] {
        for objects in [true, false] {
            let deep = nested(depth, objects, false, json!("x"));
            let inputs = [
                json!({ "data": deep.clone(), "feedetail": deep.clone() }),
                json!({ "data": { "exp_content": deep.clone(), "psn_no": deep.clone() } }),
                json!({ "feedetail": [{ "exp_content": deep.clone() }] }),
                deep.clone(),
            ];
            for input in &inputs {
                for code in SUPPORTED_INFNOS {
                    if let Err(e) = TransactionInput::parse(code, input) {
                        assert!(!e.field.is_empty() && !e.message.is_empty());
                    }
                }
            }
            // Unwind the deepest values by hand: serde_json's drop glue recurses.
            for v in inputs.into_iter().chain([deep]) {
                unwind(v);
            }
        }
    }
}

#[test]
fn exp_content_nested_too_deep_is_refused_not_serialized() {
    let mut line = common::fee_line_2204("1");
    line["exp_content"] = nested(200, true, false, json!(1));
    let error = yibao_fsi::Input2204::parse(&json!({ "feedetail": [line] })).unwrap_err();
    assert_eq!(error.to_string(), "input.feedetail[0].exp_content: 嵌套层数超过128层");
}

fn unwind(v: Value) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// An uploaded 表200 is whatever bytes the institution sent: arbitrary bytes, a truncated or
    /// corrupted ZIP, or tab-separated text with any cells. Reading it never panics, and a
    /// refusal names the file's field.
    #[test]
    fn arbitrary_exchanged_files_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        text in "[A-Z0-9\t\n.\\-]{0,400}",
        cut in 0usize..400,
        flip in any::<(usize, u8)>(),
    ) {
        let check_file = |result: Result<Vec<yibao_fsi::files::DetailRow>, yibao_fsi::FsiError>| {
            if let Err(e) = result {
                prop_assert!(e.field.starts_with("input.data.file_qury_no"), "{e}");
            }
            Ok(())
        };
        check_file(yibao_fsi::files::read_detail_file(&bytes))?;
        check_file(yibao_fsi::files::read_detail_file(text.as_bytes()))?;
        let mut zipped = yibao_fsi::files::zip_text("200.txt", &text).unwrap();
        let at = flip.0 % zipped.len();
        zipped[at] ^= flip.1;
        check_file(yibao_fsi::files::read_detail_file(&zipped))?;
        zipped.truncate(cut.min(zipped.len()));
        check_file(yibao_fsi::files::read_detail_file(&zipped))?;
    }
}
