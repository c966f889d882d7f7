//! Identifiers the platform issues (`mdtrt_id`, `setl_id`, `inf_refmsgid` serials). Unique
//! across restarts without a stored counter: each start takes its millisecond clock reading
//! (later than any earlier start's) as a prefix, and counts from there.

use std::sync::atomic::{AtomicU64, Ordering};

pub struct IdGenerator {
    /// The pooling region's 6-digit division.
    admdvs: String,
    start_millis: u64,
    next: AtomicU64,
}

impl IdGenerator {
    pub fn new(admdvs: &str, start_millis: u64) -> IdGenerator {
        assert_eq!(admdvs.len(), 6, "division codes are 6 digits");
        IdGenerator {
            admdvs: admdvs.to_owned(),
            start_millis,
            next: AtomicU64::new(1),
        }
    }

    fn serial(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// `admdvs(6) + start millis(13) + serial(10)` with a one-letter kind: 30 characters, the
    /// width of `mdtrt_id` and `setl_id`.
    pub fn issue(&self, kind: char) -> String {
        let id = format!(
            "{}{kind}{:013}{:010}",
            self.admdvs,
            self.start_millis,
            self.serial() % 10_000_000_000
        );
        debug_assert_eq!(id.len(), 30);
        id
    }

    /// A 10-digit serial for `inf_refmsgid`.
    pub fn message_serial(&self) -> u64 {
        self.serial() % 10_000_000_000
    }
}
