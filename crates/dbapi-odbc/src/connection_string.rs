//! ODBC connection strings: `key=value` attributes separated by `;`, where a value in
//! braces (`{…}`, with `}}` for a literal `}`) may contain `;` and `=`.

use dbapi::{Error, Result};

/// One attribute, its value as written (braces included).
pub(crate) struct Attribute<'a> {
    pub(crate) key: &'a str,
    pub(crate) value: &'a str,
}

/// Splits a connection string into attributes.
///
/// # Errors
/// An Interface error for an empty string, an unbalanced `{`, or an attribute without `=`.
pub(crate) fn parse(text: &str) -> Result<Vec<Attribute<'_>>> {
    if text.trim().is_empty() {
        return Err(Error::interface(
            "the ODBC connection string is empty: give Driver={…} or DSN=… and the driver's attributes",
        ));
    }
    let mut attributes = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            let shown: String = rest.chars().take(40).collect();
            return Err(Error::interface(format!(
                "malformed ODBC connection string: the attribute {shown:?} has no '=' (write key=value pairs separated by ';')"
            )));
        };
        let (value, next) = if after.starts_with('{') {
            let end = closing_brace(after).ok_or_else(|| {
                Error::interface(format!(
                    "malformed ODBC connection string: the value of {} opens '{{' and never closes it",
                    key.trim()
                ))
            })?;
            (&after[..=end], after[end + 1..].trim_start_matches(';'))
        } else {
            match after.split_once(';') {
                Some((value, next)) => (value, next),
                None => (after, ""),
            }
        };
        attributes.push(Attribute {
            key: key.trim(),
            value,
        });
        rest = next.trim_start();
    }
    Ok(attributes)
}

/// The index of the `}` closing a braced value starting at index 0.
fn closing_brace(value: &str) -> Option<usize> {
    let bytes = value.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'}' {
            if bytes.get(i + 1) == Some(&b'}') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The attributes written back with passwords replaced by `***`.
pub(crate) fn redacted(attributes: &[Attribute<'_>]) -> String {
    attributes
        .iter()
        .map(|a| {
            if is_secret(a.key) {
                format!("{}=***", a.key)
            } else {
                format!("{}={}", a.key, a.value)
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn is_secret(key: &str) -> bool {
    ["PWD", "PASSWORD", "PASSWD"]
        .iter()
        .any(|k| key.eq_ignore_ascii_case(k))
}

/// A value quoted for a connection string when it needs it.
pub(crate) fn quote(value: &str) -> String {
    if value.contains([';', '{', '}', '=']) || value.trim() != value {
        format!("{{{}}}", value.replace('}', "}}"))
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::{parse, quote, redacted};

    #[test]
    fn braces_hide_separators_and_passwords_are_redacted() {
        let text = "Driver={PostgreSQL Unicode};Server=db;PWD={se;cr}}et};Database=x";
        let attributes = parse(text).expect("parses");
        assert_eq!(attributes.len(), 4);
        assert_eq!(attributes[2].value, "{se;cr}}et}");
        let shown = redacted(&attributes);
        assert_eq!(
            shown,
            "Driver={PostgreSQL Unicode};Server=db;PWD=***;Database=x"
        );
    }

    #[test]
    fn malformed_strings_say_what_is_wrong() {
        let err = parse("Driver={SQLite3;Database=x")
            .err()
            .expect("unbalanced");
        assert!(err.message().contains("never closes"), "{err}");
        let err = parse("Driver=x;oops").err().expect("no =");
        assert!(err.message().contains("\"oops\""), "{err}");
        assert!(parse("  ").is_err());
    }

    #[test]
    fn quoting_round_trips() {
        let text = format!("PWD={}", quote("a;b}c"));
        let attributes = parse(&text).expect("parses");
        assert_eq!(attributes[0].value, "{a;b}}c}");
        assert_eq!(quote("plain"), "plain");
    }
}
