//! Plain date and time values, with ISO-8601 text forms and DB-API's tick constructors.
//!
//! These are deliberately small: no time zones, no arithmetic beyond what the DB-API needs.
//! Convert to `chrono` or `time` at the edge of your program if you need more.

use std::fmt;
use std::str::FromStr;

use crate::{Error, Result};

/// A calendar date (proleptic Gregorian), as SQL `DATE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A time of day with nanosecond precision, as SQL `TIME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    hour: u8,
    minute: u8,
    second: u8,
    nanosecond: u32,
}

/// A date and time without time zone, as SQL `TIMESTAMP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    date: Date,
    time: Time,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A date from its parts.
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Data`] error when the month or day is out of range.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(Error::data(format!(
                "invalid date {year:04}-{month:02}-{day:02}: month must be 1-12 and the day must exist in that month"
            )));
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    #[must_use]
    pub fn year(self) -> i32 {
        self.year
    }
    /// The month, 1–12.
    #[must_use]
    pub fn month(self) -> u8 {
        self.month
    }
    /// The day of the month, 1–31.
    #[must_use]
    pub fn day(self) -> u8 {
        self.day
    }

    /// The date `days` after 1970-01-01 (negative: before).
    #[must_use]
    pub fn from_days_since_epoch(days: i64) -> Self {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Self { year, month, day }
    }

    /// Days since 1970-01-01 (negative: before).
    #[must_use]
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl Time {
    /// A time from its parts.
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Data`] error when a part is out of range.
    pub fn new(hour: u8, minute: u8, second: u8, nanosecond: u32) -> Result<Self> {
        if hour > 23 || minute > 59 || second > 59 || nanosecond > 999_999_999 {
            return Err(Error::data(format!(
                "invalid time {hour:02}:{minute:02}:{second:02}.{nanosecond:09}: hours 0-23, minutes and seconds 0-59"
            )));
        }
        Ok(Self {
            hour,
            minute,
            second,
            nanosecond,
        })
    }
    /// The hour, 0–23.
    #[must_use]
    pub fn hour(self) -> u8 {
        self.hour
    }
    /// The minute, 0–59.
    #[must_use]
    pub fn minute(self) -> u8 {
        self.minute
    }
    /// The second, 0–59.
    #[must_use]
    pub fn second(self) -> u8 {
        self.second
    }
    /// The fraction of the second, in nanoseconds.
    #[must_use]
    pub fn nanosecond(self) -> u32 {
        self.nanosecond
    }
}

impl Timestamp {
    /// A timestamp from a date and a time.
    #[must_use]
    pub fn new(date: Date, time: Time) -> Self {
        Self { date, time }
    }
    /// The date part.
    #[must_use]
    pub fn date(self) -> Date {
        self.date
    }
    /// The time part.
    #[must_use]
    pub fn time(self) -> Time {
        self.time
    }

    /// The UTC timestamp `ticks` seconds after the Unix epoch (DB-API's `TimestampFromTicks`,
    /// in UTC rather than local time so results do not depend on the machine).
    ///
    /// # Errors
    /// A [`crate::ErrorKind::Data`] error for non-finite ticks.
    pub fn from_ticks(ticks: f64) -> Result<Self> {
        if !ticks.is_finite() || ticks.abs() > 1e14 {
            return Err(Error::data(format!(
                "ticks {ticks} are not a representable number of seconds since the epoch"
            )));
        }
        let secs = ticks.floor();
        let nanos = ((ticks - secs) * 1e9).round().min(999_999_999.0) as u32;
        let secs = secs as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        Ok(Self {
            date: Date::from_days_since_epoch(days),
            time: Time {
                hour: (rem / 3600) as u8,
                minute: (rem % 3600 / 60) as u8,
                second: (rem % 60) as u8,
                nanosecond: nanos,
            },
        })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)?;
        if self.nanosecond != 0 {
            let digits = format!("{:09}", self.nanosecond);
            write!(f, ".{}", digits.trim_end_matches('0'))?;
        }
        Ok(())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.date, self.time)
    }
}

fn parse_num<T: FromStr>(part: &str, what: &str, text: &str) -> Result<T> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
        return Err(Error::data(format!("invalid {what} in {text:?}")));
    }
    part.parse()
        .map_err(|_| Error::data(format!("invalid {what} in {text:?}")))
}

impl FromStr for Date {
    type Err = Error;
    /// Parses `YYYY-MM-DD`.
    fn from_str(text: &str) -> Result<Self> {
        let mut parts = text.splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::data(format!(
                "invalid date {text:?}: expected YYYY-MM-DD"
            )));
        };
        Self::new(
            parse_num(y, "year", text)?,
            parse_num(m, "month", text)?,
            parse_num(d, "day", text)?,
        )
    }
}

impl FromStr for Time {
    type Err = Error;
    /// Parses `HH:MM[:SS[.fraction]]`.
    fn from_str(text: &str) -> Result<Self> {
        let (hms, frac) = text.split_once('.').unwrap_or((text, ""));
        let mut parts = hms.splitn(3, ':');
        let (Some(h), Some(m)) = (parts.next(), parts.next()) else {
            return Err(Error::data(format!(
                "invalid time {text:?}: expected HH:MM:SS"
            )));
        };
        let s = parts.next().unwrap_or("0");
        let nanos = if frac.is_empty() {
            0
        } else {
            if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::data(format!(
                    "invalid fraction of a second in {text:?}"
                )));
            }
            parse_num::<u32>(frac, "fraction of a second", text)? * 10u32.pow(9 - frac.len() as u32)
        };
        Self::new(
            parse_num(h, "hour", text)?,
            parse_num(m, "minute", text)?,
            parse_num(s, "second", text)?,
            nanos,
        )
    }
}

impl FromStr for Timestamp {
    type Err = Error;
    /// Parses `YYYY-MM-DD HH:MM:SS[.fraction]` (a `T` separator is accepted too).
    fn from_str(text: &str) -> Result<Self> {
        let (d, t) = text.split_once([' ', 'T']).ok_or_else(|| {
            Error::data(format!(
                "invalid timestamp {text:?}: expected YYYY-MM-DD HH:MM:SS"
            ))
        })?;
        Ok(Self::new(d.parse()?, t.parse()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 11_016, 20_000, 2_932_896] {
            assert_eq!(Date::from_days_since_epoch(days).days_since_epoch(), days);
        }
        assert_eq!(Date::from_days_since_epoch(0).to_string(), "1970-01-01");
        assert_eq!(
            Date::from_days_since_epoch(11_016).to_string(),
            "2000-02-29"
        );
    }

    #[test]
    fn text_forms_round_trip() {
        let ts: Timestamp = "2024-02-29 23:59:58.125".parse().expect("valid");
        assert_eq!(ts.to_string(), "2024-02-29 23:59:58.125");
        assert_eq!(ts.time().nanosecond(), 125_000_000);
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("24:00:00".parse::<Time>().is_err());
        assert!("garbage".parse::<Timestamp>().is_err());
    }

    #[test]
    fn ticks_are_utc() {
        let ts = Timestamp::from_ticks(86_400.5).expect("finite");
        assert_eq!(ts.to_string(), "1970-01-02 00:00:00.5");
        assert!(Timestamp::from_ticks(f64::NAN).is_err());
    }
}
