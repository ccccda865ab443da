//! The bounded-memory check of streaming cursors ([`dbapi::Cursor::set_streaming`]): a
//! large result read through `fetchmany`, with the process's peak memory measured. Run it
//! in a test binary of its own, so the peak is the check's alone.

use dbapi::Cursor;

/// The most memory the check allows the whole test process, in bytes.
pub const PEAK_LIMIT: u64 = 100 * 1024 * 1024;

/// The process's peak resident set, in bytes (`VmHWM` in `/proc/self/status`, Linux).
///
/// # Panics
/// Where `/proc/self/status` has no `VmHWM` line.
#[must_use]
pub fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in kB");
    kb * 1024
}

/// Reads the streaming result open on `cur` — an integer column `x` numbering the rows
/// `1..=rows` — through `fetchmany(1000)` to its end, and asserts every row came once,
/// `rowcount` was -1 until the end and `rows` after, and the peak memory stayed under
/// [`PEAK_LIMIT`]. Returns the peak, in bytes.
///
/// # Panics
/// When any of that does not hold.
pub fn assert_streams_in_bounded_memory(cur: &mut impl Cursor, rows: i64) -> u64 {
    assert_eq!(cur.rowcount(), -1, "not known while streaming");
    let (mut seen, mut sum) = (0_i64, 0_i64);
    loop {
        let batch = cur.fetchmany(Some(1000)).expect("fetchmany");
        if batch.is_empty() {
            break;
        }
        for row in &batch {
            seen += 1;
            sum += row.get::<i64>("x").expect("x");
        }
    }
    assert_eq!(seen, rows);
    assert_eq!(sum, rows * (rows + 1) / 2, "every row, once");
    assert_eq!(cur.rowcount(), rows, "known once exhausted");
    let peak = peak_rss();
    assert!(
        peak < PEAK_LIMIT,
        "peak RSS {} MB for {rows} streamed rows",
        peak / (1024 * 1024)
    );
    peak
}
