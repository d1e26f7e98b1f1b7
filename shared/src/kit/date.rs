//! A calendar date without a clock: the rules take `today` as a parameter.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::Error;

/// A proleptic Gregorian date, `YYYY-MM-DD` on the wire and in documents (every human-readable
/// format: JSON); in a binary format (postcard: the tablet's packed rows) its day number, which
/// reads without a string to make and parse.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date {
    days: i32, // days since 1970-01-01
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i32(self.days)
        }
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
            return text.parse().map_err(serde::de::Error::custom);
        }
        let days = i32::deserialize(d)?;
        // The days of the years a date can be written with (0000 to 9999).
        let first = Date::from_ymd(0, 1, 1).map_or(i32::MIN, |d| d.days);
        let last = Date::from_ymd(9999, 12, 31).map_or(i32::MAX, |d| d.days);
        if !(first..=last).contains(&days) {
            return Err(serde::de::Error::custom(format!("day {days} out of range")));
        }
        Ok(Date { days })
    }
}

impl Date {
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Date> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let mp = (m as i32 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date {
            days: era * 146_097 + doe - 719_468,
        })
    }

    /// The UTC+8 calendar day of a millisecond timestamp (China has one time zone).
    pub fn from_unix_ms_china(ms: i64) -> Date {
        let days = (ms + 8 * 3_600_000).div_euclid(86_400_000);
        Date { days: days as i32 }
    }

    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.days + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
        (y, m, d)
    }

    pub fn add_days(self, n: i32) -> Date {
        Date {
            days: self.days + n,
        }
    }

    pub fn days_until(self, later: Date) -> i32 {
        later.days - self.days
    }

    /// 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        (self.days + 3).rem_euclid(7) as u32
    }
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

impl std::str::FromStr for Date {
    type Err = Error;
    fn from_str(s: &str) -> Result<Date, Error> {
        let bad = || Error::InvalidValue {
            field: "date".into(),
            value: s.into(),
            reason: "expected a date as YYYY-MM-DD".into(),
        };
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let (y, m, d) = (
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        );
        Date::from_ymd(y, m, d).ok_or_else(bad)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_across_month_year_and_leap_days() {
        for s in [
            "1970-01-01",
            "2024-02-29",
            "2026-12-31",
            "2027-01-01",
            "2000-03-01",
            "1969-12-31",
        ] {
            let d: Date = s.parse().unwrap();
            assert_eq!(d.to_string(), s);
        }
        let d: Date = "2026-12-31".parse().unwrap();
        assert_eq!(d.add_days(1).to_string(), "2027-01-01");
        assert_eq!("2026-11-22".parse::<Date>().unwrap().weekday(), 6); // a Sunday
        assert!("2026-02-29".parse::<Date>().is_err());
        assert!("2026-1-2".parse::<Date>().is_err());
    }

    #[test]
    fn serialises_as_the_date_people_read() {
        let d: Date = "2026-11-20".parse().unwrap();
        assert_eq!(serde_json::to_string(&d).unwrap(), "\"2026-11-20\"");
        assert_eq!(serde_json::from_str::<Date>("\"2026-11-20\"").unwrap(), d);
        assert!(serde_json::from_str::<Date>("\"2026-13-01\"").is_err());
    }
}
