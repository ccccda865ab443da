//! The first keyword of an SQL statement, for the decisions adapters take before sending
//! it (open an implicit transaction? does it return rows?), read without allocating.

/// The statement's first word (ASCII letters after leading whitespace), as written.
///
/// ```
/// assert_eq!(dbapi::first_keyword("  select 1"), "select");
/// assert_eq!(dbapi::first_keyword("BEGIN;"), "BEGIN");
/// assert_eq!(dbapi::first_keyword("(SELECT 1)"), "");
/// ```
#[must_use]
pub fn first_keyword(sql: &str) -> &str {
    let sql = sql.trim_start();
    let end = sql
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(sql.len());
    &sql[..end]
}

/// Whether the statement's first keyword is one of `keywords`, ignoring ASCII case.
///
/// ```
/// assert!(dbapi::starts_with_keyword(" commit", &["COMMIT", "END"]));
/// assert!(!dbapi::starts_with_keyword("COMMITTED", &["COMMIT"]));
/// ```
#[must_use]
pub fn starts_with_keyword(sql: &str, keywords: &[&str]) -> bool {
    let first = first_keyword(sql);
    keywords.iter().any(|k| k.eq_ignore_ascii_case(first))
}
