//! STIX timestamps: RFC 3339 in UTC with a `Z`, `YYYY-MM-DDTHH:mm:ss[.s+]Z`.

use std::cmp::Ordering;
use std::fmt;

/// A parsed STIX timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second; digits beyond the ninth are ignored for ordering.
    pub nanos: u32,
    /// How many fractional-second digits were written (the precision).
    pub fraction_digits: u8,
}

/// Why a string is not a STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// Not of the form `YYYY-MM-DDTHH:mm:ss[.s+]Z`.
    #[error("is not of the form YYYY-MM-DDTHH:mm:ss[.s+]Z")]
    Format,
    /// An offset other than `Z`.
    #[error("must be in UTC with the 'Z' designator, not an offset")]
    NotUtc,
    /// A field out of its range (month 13, 31 February, hour 24…).
    #[error("is not a real date and time ({0} out of range)")]
    Range(&'static str),
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    /// Chronological order; precision does not matter.
    fn cmp(&self, other: &Self) -> Ordering {
        (self.seconds, self.nanos).cmp(&(other.seconds, other.nanos))
    }
}

fn digits(bytes: &[u8]) -> Option<u32> {
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

/// Days from 1970-01-01 to the given civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl Timestamp {
    /// Parses a STIX timestamp.
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || b[10] != b'T'
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(TimestampError::Format);
        }
        let field = |range: std::ops::Range<usize>| digits(&b[range]).ok_or(TimestampError::Format);
        let year = i64::from(field(0..4)?);
        let month = field(5..7)?;
        let day = field(8..10)?;
        let hour = field(11..13)?;
        let minute = field(14..16)?;
        let second = field(17..19)?;
        let mut rest = &b[19..];
        let mut nanos = 0u32;
        let mut fraction_digits = 0u8;
        if let Some(after_dot) = rest.strip_prefix(b".") {
            let n = after_dot.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 {
                return Err(TimestampError::Format);
            }
            for (i, &d) in after_dot[..n].iter().enumerate().take(9) {
                nanos += u32::from(d - b'0') * 10u32.pow(8 - i as u32);
            }
            fraction_digits = n.min(usize::from(u8::MAX)) as u8;
            rest = &after_dot[n..];
        }
        match rest {
            b"Z" => {}
            [b'+' | b'-', ..] | b"z" => return Err(TimestampError::NotUtc),
            _ => return Err(TimestampError::Format),
        }
        if !(1..=12).contains(&month) {
            return Err(TimestampError::Range("month"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(TimestampError::Range("day"));
        }
        if hour > 23 {
            return Err(TimestampError::Range("hour"));
        }
        if minute > 59 {
            return Err(TimestampError::Range("minute"));
        }
        // RFC 3339 allows a leap second, 60, which only ever ends a UTC day; the
        // last day of year 9999 has none, so every timestamp displays in four digits.
        if second > 60
            || (second == 60
                && (hour != 23 || minute != 59 || (year, month, day) == (9999, 12, 31)))
        {
            return Err(TimestampError::Range("second"));
        }
        let seconds = days_from_civil(year, month, day) * 86_400
            + i64::from(hour * 3600 + minute * 60 + second);
        Ok(Timestamp {
            seconds,
            nanos,
            fraction_digits,
        })
    }
}

impl Timestamp {
    /// The civil date and time of the instant: (year, month, day, hour, minute, second).
    fn civil(&self) -> (i64, i64, i64, i64, i64, i64) {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        // Inverse of days_from_civil.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        (year, month, day, secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

/// Writes `value` as `out.len()` decimal digits, zero-padded (the caller keeps it in range).
fn put_digits(out: &mut [u8], mut value: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

impl fmt::Display for Timestamp {
    /// Writes the instant back as `YYYY-MM-DDTHH:mm:ss.sssZ` with at least millisecond precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute, second) = self.civil();
        let digits = usize::from(self.fraction_digits.clamp(3, 9));
        let Ok(year4 @ 0..=9999) = u64::try_from(year) else {
            // Only a timestamp built from raw seconds, never a parsed one, gets here;
            // the digit writer below is for the four-digit years every STIX text has.
            let frac = format!("{:09}", self.nanos);
            return write!(
                f,
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{}Z",
                &frac[..digits]
            );
        };
        // Written by hand: this runs twice per stored version, and the formatting
        // machinery cost more than parsing and validating the rest of a timestamp.
        let mut text = *b"0000-00-00T00:00:00.000000000Z";
        put_digits(&mut text[0..4], year4);
        put_digits(&mut text[5..7], month as u64);
        put_digits(&mut text[8..10], day as u64);
        put_digits(&mut text[11..13], hour as u64);
        put_digits(&mut text[14..16], minute as u64);
        put_digits(&mut text[17..19], second as u64);
        put_digits(&mut text[20..29], u64::from(self.nanos.min(999_999_999)));
        let end = 20 + digits;
        text[end] = b'Z';
        // Every byte written is an ASCII digit or punctuation.
        f.write_str(std::str::from_utf8(&text[..=end]).map_err(|_| fmt::Error)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_orders() {
        let a = Timestamp::parse("2016-04-06T20:03:48.000Z").unwrap();
        let b = Timestamp::parse("2016-04-06T20:03:48Z").unwrap();
        let c = Timestamp::parse("2016-04-06T20:03:48.0001Z").unwrap();
        assert_eq!(a.cmp(&b), Ordering::Equal);
        assert!(c > a);
        assert_eq!(a.fraction_digits, 3);
        assert_eq!(b.fraction_digits, 0);
        assert_eq!(Timestamp::parse("1970-01-01T00:00:00Z").unwrap().seconds, 0);
        assert_eq!(
            Timestamp::parse("2000-03-01T00:00:00Z").unwrap().seconds,
            951_868_800
        );
    }

    #[test]
    fn rejects_bad_forms() {
        use TimestampError::*;
        assert_eq!(Timestamp::parse("2016-04-06 20:03:48Z"), Err(Format));
        assert_eq!(Timestamp::parse("2016-04-06T20:03:48+01:00"), Err(NotUtc));
        assert_eq!(Timestamp::parse("2016-04-06T20:03:48."), Err(Format));
        assert_eq!(Timestamp::parse("2016-04-06T20:03:48.Z"), Err(Format));
        assert_eq!(Timestamp::parse("2015-02-29T00:00:00Z"), Err(Range("day")));
        assert_eq!(
            Timestamp::parse("2016-13-01T00:00:00Z"),
            Err(Range("month"))
        );
        assert_eq!(Timestamp::parse("2016-01-01T24:00:00Z"), Err(Range("hour")));
        assert!(Timestamp::parse("2016-02-29T00:00:00Z").is_ok());
        assert!(Timestamp::parse("2016-12-31T23:59:60Z").is_ok());
        assert_eq!(
            Timestamp::parse("2016-12-31T12:00:60Z"),
            Err(Range("second"))
        );
        assert_eq!(
            Timestamp::parse("9999-12-31T23:59:60Z"),
            Err(Range("second"))
        );
    }

    #[test]
    fn displays_back() {
        let t = Timestamp::parse("2024-02-29T23:59:07.123456Z").unwrap();
        assert_eq!(t.to_string(), "2024-02-29T23:59:07.123456Z");
        let t = Timestamp::parse("1969-12-31T23:59:59Z").unwrap();
        assert_eq!(t.to_string(), "1969-12-31T23:59:59.000Z");
        let t = Timestamp::parse("0000-01-01T00:00:00.123456789Z").unwrap();
        assert_eq!(t.to_string(), "0000-01-01T00:00:00.123456789Z");
        let t = Timestamp::parse("9999-12-31T23:59:59.1234567891Z").unwrap();
        assert_eq!(t.to_string(), "9999-12-31T23:59:59.123456789Z");
    }

    #[test]
    fn displays_years_outside_four_digits_with_a_sign_or_more_digits() {
        let before_year_0 = Timestamp {
            seconds: -62_167_219_201,
            nanos: 5_000_000,
            fraction_digits: 2,
        };
        assert_eq!(before_year_0.to_string(), "-001-12-31T23:59:59.005Z");
        let year_10000 = Timestamp {
            seconds: 253_402_300_800,
            nanos: 0,
            fraction_digits: 0,
        };
        assert_eq!(year_10000.to_string(), "10000-01-01T00:00:00.000Z");
    }
}
