//! `?` markers on PostgreSQL: statements written with JDBC's and ODBC's `?` are rewritten
//! to the server's `$1, $2, …` before they are prepared. Question marks inside string
//! literals, quoted identifiers, comments and dollar-quoted bodies are left alone; `??` is
//! one literal `?` (JSON operators: write `??|` for `?|`, as with pgjdbc).

use std::borrow::Cow;

use dbapi::{Error, Result};

/// The statement with its `?` markers numbered, or as it is when it has none.
///
/// # Errors
/// A Programming error when a statement mixes `?` and `$n` markers.
pub(crate) fn to_dollar(sql: &str) -> Result<Cow<'_, str>> {
    if !sql.contains('?') {
        return Ok(Cow::Borrowed(sql));
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let (mut next, mut dollar_marker, mut i, mut copied) = (1_usize, false, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => i = skip_quoted(bytes, i, b'\'', escapes_backslash(bytes, i)),
            b'"' => i = skip_quoted(bytes, i, b'"', false),
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = skip_block_comment(bytes, i),
            b'$' => match dollar_tag(bytes, i) {
                Some(tag_end) => i = skip_dollar_body(bytes, i, tag_end),
                None => {
                    dollar_marker |= bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                    i += 1;
                }
            },
            b'?' => {
                out.push_str(&sql[copied..i]);
                if bytes.get(i + 1) == Some(&b'?') {
                    out.push('?');
                    i += 2;
                } else {
                    out.push('$');
                    out.push_str(&next.to_string());
                    next += 1;
                    i += 1;
                }
                copied = i;
            }
            _ => i += 1,
        }
    }
    if copied == 0 {
        return Ok(Cow::Borrowed(sql));
    }
    if next > 1 && dollar_marker {
        return Err(Error::programming(
            "the statement mixes ? and $n parameter markers: use one style",
        ));
    }
    out.push_str(&sql[copied..]);
    Ok(Cow::Owned(out))
}

/// Whether the quote at `i` opens an escape string (`E'…'`), where `\'` does not close it.
fn escapes_backslash(bytes: &[u8], i: usize) -> bool {
    i > 0
        && matches!(bytes[i - 1], b'E' | b'e')
        && (i < 2 || !(bytes[i - 2].is_ascii_alphanumeric() || bytes[i - 2] == b'_'))
}

/// The index after the quoted run opened at `start` (a doubled quote continues it).
fn skip_quoted(bytes: &[u8], start: usize, quote: u8, backslash: bool) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// The index after a block comment opened at `start`; PostgreSQL's nest.
fn skip_block_comment(bytes: &[u8], start: usize) -> usize {
    let (mut depth, mut i) = (0_usize, start);
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    bytes.len()
}

/// When a dollar quote opens at `start` (`$$` or `$tag$`), the index after its opening tag.
fn dollar_tag(bytes: &[u8], start: usize) -> Option<usize> {
    // `$1` is a marker, and `a$b$` part of an identifier.
    if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        return None;
    }
    let mut i = start + 1;
    if bytes.get(i).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
    {
        i += 1;
    }
    (bytes.get(i) == Some(&b'$')).then_some(i + 1)
}

/// The index after the dollar-quoted body whose opening tag spans `start..tag_end`.
fn skip_dollar_body(bytes: &[u8], start: usize, tag_end: usize) -> usize {
    let tag = &bytes[start..tag_end];
    bytes[tag_end..]
        .windows(tag.len())
        .position(|w| w == tag)
        .map_or(bytes.len(), |p| tag_end + p + tag.len())
}

#[cfg(test)]
mod tests {
    use super::to_dollar;
    use proptest::prelude::*;

    fn rewrite(sql: &str) -> String {
        to_dollar(sql).expect("rewrites").into_owned()
    }

    #[test]
    fn markers_are_numbered_outside_literals_comments_and_bodies() {
        assert_eq!(rewrite("SELECT ?, ?"), "SELECT $1, $2");
        assert_eq!(rewrite("SELECT '?', ?"), "SELECT '?', $1");
        assert_eq!(rewrite("SELECT 'it''s ?', ?"), "SELECT 'it''s ?', $1");
        assert_eq!(rewrite(r"SELECT E'\'?', ?"), r"SELECT E'\'?', $1");
        assert_eq!(rewrite(r#"SELECT "a?b", ?"#), r#"SELECT "a?b", $1"#);
        assert_eq!(rewrite("SELECT ? -- why?\n, ?"), "SELECT $1 -- why?\n, $2");
        assert_eq!(
            rewrite("SELECT /* ? /* ? */ ? */ ?"),
            "SELECT /* ? /* ? */ ? */ $1"
        );
        assert_eq!(rewrite("SELECT $$ ? $$, ?"), "SELECT $$ ? $$, $1");
        assert_eq!(
            rewrite("SELECT $fn$ ? $x$ ? $fn$, ?"),
            "SELECT $fn$ ? $x$ ? $fn$, $1"
        );
        assert_eq!(
            rewrite("SELECT '{\"a\":1}'::jsonb ?? 'a', ?"),
            "SELECT '{\"a\":1}'::jsonb ? 'a', $1"
        );
        assert_eq!(
            rewrite("SELECT d ??| array['a'] FROM t WHERE k = ?"),
            "SELECT d ?| array['a'] FROM t WHERE k = $1"
        );
        assert_eq!(rewrite("SELECT $1, '?'"), "SELECT $1, '?'");
        assert!(matches!(
            to_dollar("SELECT 1"),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn mixing_styles_is_a_programming_error() {
        let err = to_dollar("SELECT $1, ?").expect_err("mixed");
        assert_eq!(err.kind(), dbapi::ErrorKind::Programming);
    }

    /// Pieces of SQL whose `?` must survive, and bare markers.
    fn piece() -> impl Strategy<Value = (String, String, usize)> {
        prop_oneof![
            "[a-z ,=()]{0,6}".prop_map(|s| (s.clone(), s, 0)),
            "[a-z?' ]{0,6}".prop_map(|s| {
                let quoted = format!("'{}'", s.replace('\'', "''"));
                (quoted.clone(), quoted, 0)
            }),
            "[a-z? ]{0,6}".prop_map(|s| (format!("\"{s}\""), format!("\"{s}\""), 0)),
            "[a-z? ]{0,6}".prop_map(|s| (format!("/* {s} */"), format!("/* {s} */"), 0)),
            "[a-z? ]{0,6}".prop_map(|s| (format!("$q$ {s} $q$"), format!("$q$ {s} $q$"), 0)),
            Just(("??".to_owned(), "?".to_owned(), 0)),
            Just((" ? ".to_owned(), " $ ".to_owned(), 1)),
        ]
    }

    proptest! {
        #[test]
        fn only_bare_markers_change(pieces in proptest::collection::vec(piece(), 0..12)) {
            // Pieces are separated by a space, as words of SQL are.
            let sql = pieces.iter().map(|(s, _, _)| s.as_str()).collect::<Vec<_>>().join(" ");
            let mut expected = Vec::new();
            let mut n = 0;
            for (_, out, markers) in &pieces {
                if *markers == 1 {
                    n += 1;
                    expected.push(format!(" ${n} "));
                } else {
                    expected.push(out.clone());
                }
            }
            let expected = expected.join(" ");
            prop_assert_eq!(rewrite(&sql), expected);
        }
    }
}
