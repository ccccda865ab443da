//! PostgreSQL binary result values → dbapi values, for the types the adapter maps.
//!
//! Mapped: `bool`, `int2/4/8`, `oid`, `float4/8`, `numeric` (exact, as decimal text), `text`,
//! `varchar`, `bpchar`, `name`, `"char"`, `unknown`, `bytea`, `date`, `time`, `timestamp`,
//! `timestamptz` (as UTC), `uuid`, `json`, `jsonb` and `xml` (as text), `void` (as NULL). Any other type is a
//! NotSupported error naming it.

use std::borrow::Cow;

use dbapi::{Date, Error, Result, Time, Timestamp, TypeCode, TypeObject, Value};
use postgres_types::{FromSql, Type};

/// A column value as the server sent it, before decoding.
pub struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(
        _ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

/// The DB-API type code of a PostgreSQL type.
#[must_use]
pub fn type_code(ty: &Type) -> TypeCode {
    let family = match *ty {
        Type::BOOL
        | Type::INT2
        | Type::INT4
        | Type::INT8
        | Type::FLOAT4
        | Type::FLOAT8
        | Type::NUMERIC
        | Type::MONEY => Some(TypeObject::Number),
        Type::OID => Some(TypeObject::Rowid),
        Type::TEXT
        | Type::VARCHAR
        | Type::BPCHAR
        | Type::NAME
        | Type::CHAR
        | Type::UNKNOWN
        | Type::JSON
        | Type::JSONB
        | Type::XML
        | Type::UUID => Some(TypeObject::String),
        Type::BYTEA => Some(TypeObject::Binary),
        Type::DATE
        | Type::TIME
        | Type::TIMESTAMP
        | Type::TIMESTAMPTZ
        | Type::TIMETZ
        | Type::INTERVAL => Some(TypeObject::Datetime),
        _ => None,
    };
    TypeCode::new(Cow::Owned(ty.name().to_owned()), family)
}

fn bad(ty: &Type) -> Error {
    Error::data(format!(
        "malformed {} value received from the server",
        ty.name()
    ))
}

fn array<const N: usize>(ty: &Type, raw: &[u8]) -> Result<[u8; N]> {
    raw.try_into().map_err(|_| bad(ty))
}

fn utf8(ty: &Type, raw: &[u8]) -> Result<String> {
    String::from_utf8(raw.to_vec()).map_err(|_| bad(ty))
}

fn micros_to_time(ty: &Type, micros: i64) -> Result<Time> {
    let secs = micros.div_euclid(1_000_000);
    let nanos = (micros.rem_euclid(1_000_000) * 1000) as u32;
    Time::new(
        u8::try_from(secs / 3600).map_err(|_| bad(ty))?,
        (secs % 3600 / 60) as u8,
        (secs % 60) as u8,
        nanos,
    )
}

fn timestamp(ty: &Type, micros: i64) -> Result<Value> {
    if micros == i64::MAX || micros == i64::MIN {
        let text = if micros > 0 { "infinity" } else { "-infinity" };
        return Ok(Value::Text(text.to_owned()));
    }
    let days = micros.div_euclid(86_400_000_000);
    let rest = micros.rem_euclid(86_400_000_000);
    Ok(Value::Timestamp(Timestamp::new(
        Date::from_days_since_epoch(days + PG_EPOCH_DAYS),
        micros_to_time(ty, rest)?,
    )))
}

/// Decodes `numeric`'s binary form (base-10000 digits) into exact decimal text.
fn numeric(ty: &Type, raw: &[u8]) -> Result<Value> {
    let word = |i: usize| -> Result<u16> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| bad(ty))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    let special = match sign {
        0xC000 => Some("NaN"),
        0xD000 => Some("Infinity"),
        0xF000 => Some("-Infinity"),
        _ => None,
    };
    if let Some(special) = special {
        return Ok(Value::Decimal(special.to_owned()));
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Result<_>>()?;
    let digit = |group: i32| -> u16 {
        usize::try_from(group)
            .ok()
            .and_then(|g| digits.get(g).copied())
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(0).to_string());
        for group in 1..=weight {
            text.push_str(&format!("{:04}", digit(group)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut group = weight + 1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(group)));
            group += 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(Value::Decimal(text))
}

fn uuid(raw: [u8; 16]) -> String {
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Decodes one column value.
///
/// # Errors
/// NotSupported for a type the adapter does not map (naming it); Data for malformed input.
pub fn decode(ty: &Type, raw: Raw<'_>) -> Result<Value> {
    let Some(raw) = raw.0 else {
        return Ok(Value::Null);
    };
    Ok(match *ty {
        Type::BOOL => Value::Bool(array::<1>(ty, raw)?[0] != 0),
        Type::INT2 => Value::Int(i64::from(i16::from_be_bytes(array(ty, raw)?))),
        Type::INT4 => Value::Int(i64::from(i32::from_be_bytes(array(ty, raw)?))),
        Type::INT8 => Value::Int(i64::from_be_bytes(array(ty, raw)?)),
        Type::OID => Value::Int(i64::from(u32::from_be_bytes(array(ty, raw)?))),
        Type::FLOAT4 => Value::Float(f64::from(f32::from_be_bytes(array(ty, raw)?))),
        Type::FLOAT8 => Value::Float(f64::from_be_bytes(array(ty, raw)?)),
        Type::NUMERIC => numeric(ty, raw)?,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR | Type::UNKNOWN
        | Type::JSON | Type::XML => Value::Text(utf8(ty, raw)?),
        Type::JSONB => Value::Text(utf8(ty, raw.get(1..).ok_or_else(|| bad(ty))?)?),
        Type::UUID => Value::Text(uuid(array(ty, raw)?)),
        Type::BYTEA => Value::Bytes(raw.to_vec()),
        Type::VOID => Value::Null,
        Type::DATE => {
            let days = i32::from_be_bytes(array(ty, raw)?);
            match days {
                i32::MAX => Value::Text("infinity".to_owned()),
                i32::MIN => Value::Text("-infinity".to_owned()),
                d => Value::Date(Date::from_days_since_epoch(i64::from(d) + PG_EPOCH_DAYS)),
            }
        }
        Type::TIME => Value::Time(micros_to_time(ty, i64::from_be_bytes(array(ty, raw)?))?),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => timestamp(ty, i64::from_be_bytes(array(ty, raw)?))?,
        _ => {
            return Err(Error::not_supported(format!(
                "dbapi-postgres cannot read values of type {}; cast the column to text in the query (column::text)",
                ty.name()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric_bytes(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut out = Vec::new();
        for w in [ndigits.len() as u16, weight as u16, sign, dscale] {
            out.extend_from_slice(&w.to_be_bytes());
        }
        for d in ndigits {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out
    }

    #[test]
    fn numeric_text_is_exact() {
        let cases = [
            (numeric_bytes(&[12, 3456, 7800], 1, 0, 2), "123456.78"),
            (numeric_bytes(&[5000], -1, 0x4000, 1), "-0.5"),
            (numeric_bytes(&[], 0, 0, 0), "0"),
            (numeric_bytes(&[1], 2, 0, 0), "100000000"),
            (numeric_bytes(&[12, 5000], 0, 0, 2), "12.50"),
            (numeric_bytes(&[1], -2, 0, 8), "0.00000001"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                numeric(&Type::NUMERIC, &raw).expect("valid"),
                Value::Decimal(want.to_owned())
            );
        }
    }

    #[test]
    fn unmapped_types_are_named() {
        let err = decode(&Type::INTERVAL, Raw(Some(&[0; 16]))).expect_err("unmapped");
        assert_eq!(err.kind(), dbapi::ErrorKind::NotSupported);
        assert!(err.message().contains("interval"), "{err}");
    }
}
