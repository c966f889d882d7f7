//! Keeps `docs/policy-language.md` honest: every complete policy file in it must pass the checker.
//!
//! The document's convention (stated at its top):
//!
//! - a fenced block whose info string is exactly `toml` is a complete policy file: it must contain
//!   a `[policy]` table and load with [`load_policy`] (the parser and the coverage check, as
//!   `yibao policy check` runs them);
//! - a block fenced as `toml-fragment` is a partial snippet: it is only required to be valid TOML;
//! - any other block (`text`, …) is ignored.
//!
//! Failures name the document's own line numbers, so an error can be fixed where it is read.

use std::path::Path;

use yibao_policy::load_policy;

/// The document has at least this many complete examples; fewer means examples were lost or the
/// fence convention changed without this test noticing.
const COMPLETE_EXAMPLES_MIN: usize = 20;

const DOC: &str = "docs/policy-language.md";

/// One fenced block of the document.
struct Block {
    /// The info string after the opening fence (`toml`, `toml-fragment`, `text`, …).
    info: String,
    /// The 1-based line of the document where the block's first content line is.
    first_line: usize,
    text: String,
}

fn read_doc() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(DOC);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The fenced blocks of a Markdown text, opened by a line starting with three backticks (after at
/// most three spaces) and closed by a line of only three backticks.
fn fenced_blocks(doc: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for (index, line) in doc.lines().enumerate() {
        let number = index + 1;
        let indent = line.len() - line.trim_start_matches(' ').len();
        let fence = indent <= 3 && line.trim_start().starts_with("```");
        match open.as_mut() {
            None if fence => {
                open = Some(Block {
                    info: line.trim_start()[3..].trim().to_owned(),
                    first_line: number + 1,
                    text: String::new(),
                });
            }
            None => {}
            Some(_) if fence && line.trim() == "```" => blocks.extend(open.take()),
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
        }
    }
    if let Some(block) = open {
        panic!("{DOC}:{}: fenced block is never closed", block.first_line - 1);
    }
    blocks
}

fn is_complete_file(text: &str) -> bool {
    text.lines().any(|l| l.trim() == "[policy]")
}

#[test]
fn every_complete_example_loads() {
    let doc = read_doc();
    let mut failures = Vec::new();
    let mut complete = 0;
    for block in fenced_blocks(&doc).iter().filter(|b| b.info == "toml") {
        if !is_complete_file(&block.text) {
            failures.push(format!(
                "{DOC}:{}: a ```toml block without a [policy] table; fence partial snippets as ```toml-fragment",
                block.first_line - 1
            ));
            continue;
        }
        complete += 1;
        if let Err(errors) = load_policy(DOC, &block.text) {
            for e in errors {
                // Error lines count from the block's first line; report them as document lines.
                failures.push(format!(
                    "{DOC}:{}:{}: {} (in the example starting at line {})",
                    block.first_line + e.line - 1,
                    e.column,
                    e.message,
                    block.first_line
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "documented policy files do not check:\n{}",
        failures.join("\n")
    );
    assert!(
        complete >= COMPLETE_EXAMPLES_MIN,
        "{DOC} has {complete} complete ```toml examples, expected at least {COMPLETE_EXAMPLES_MIN}"
    );
}

#[test]
fn every_fragment_is_valid_toml() {
    let doc = read_doc();
    let mut failures = Vec::new();
    let mut fragments = 0;
    for block in fenced_blocks(&doc).iter().filter(|b| b.info == "toml-fragment") {
        fragments += 1;
        let (_, errors) = toml::de::DeTable::parse_recoverable(&block.text);
        for e in &errors {
            let at = e.span().map_or(0, |s| s.start).min(block.text.len());
            let line = block.text[..at].matches('\n').count();
            failures.push(format!(
                "{DOC}:{}: TOML syntax error in a fragment: {}",
                block.first_line + line,
                e.message().trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "documented fragments are not valid TOML:\n{}",
        failures.join("\n")
    );
    assert!(
        fragments > 0,
        "{DOC} has no ```toml-fragment blocks: has the convention changed?"
    );
}

#[test]
fn fences_are_read_as_documented() {
    let doc = "text\n```toml\n[policy]\n```\n  ```toml-fragment\nratio = 0.7\n  ```\n```text\nout\n```\n";
    let blocks = fenced_blocks(doc);
    let infos: Vec<&str> = blocks.iter().map(|b| b.info.as_str()).collect();
    assert_eq!(infos, ["toml", "toml-fragment", "text"]);
    assert_eq!(blocks[0].first_line, 3);
    assert_eq!(blocks[0].text, "[policy]\n");
    assert!(is_complete_file(&blocks[0].text));
    assert!(!is_complete_file(&blocks[1].text));
}
