//! Progress bars for long file jobs (grouping, imports), on standard error.
//!
//! A bar measures bytes of the input file read, which is known before the first row and grows
//! smoothly; it draws only on a terminal (indicatif hides itself otherwise), so logs and test
//! output stay clean. The final summary line is printed either way.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Rows between two updates of the bar: updating per row would cost more than the work.
pub const UPDATE_EVERY_ROWS: u64 = 4096;

/// A bar over `total_bytes` of input with a label such as "分组".
pub fn file_bar(total_bytes: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total_bytes);
    let template = format!("{label} [{{bar:40}}] {{percent:>3}}% {{msg}} 已用{{elapsed}} 预计剩余{{eta}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}
