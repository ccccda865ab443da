//! dbapi values as PostgreSQL parameters.
//!
//! Every value except binary data is sent in PostgreSQL's text format and parsed by the
//! server as the type the statement expects for that parameter, so an `Int` fits an `int2`,
//! `int4`, `int8` or `numeric` column alike and a `Decimal` keeps every digit. Binary data is
//! sent as raw `bytea`.

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use dbapi::Value;
use postgres_types::{to_sql_checked, Format, IsNull, ToSql, Type};

/// One dbapi value bound to a statement parameter.
#[derive(Debug)]
pub struct PgParam<'a>(pub &'a Value);

fn float_text(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_owned()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_owned()
    } else {
        // Rust prints the shortest text that reads back as the same f64.
        format!("{f:?}")
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        let text = match self.0 {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bytes(bytes) => {
                out.put_slice(bytes);
                return Ok(IsNull::No);
            }
            Value::Bool(b) => if *b { "true" } else { "false" }.to_owned(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => float_text(*f),
            Value::Text(s) | Value::Decimal(s) => {
                out.put_slice(s.as_bytes());
                return Ok(IsNull::No);
            }
            Value::Date(d) => d.to_string(),
            Value::Time(t) => t.to_string(),
            Value::Timestamp(ts) => ts.to_string(),
        };
        out.put_slice(text.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        match self.0 {
            Value::Bytes(_) => Format::Binary,
            _ => Format::Text,
        }
    }

    to_sql_checked!();
}
