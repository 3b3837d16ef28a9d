//! Dates and times, through one calendar library (`time`) for every place that reads one:
//! suppression expiries (`until=`, `expires`), approvals, `--now`. A date that does not exist
//! (`2027-02-30`) is an error everywhere, not a day that silently rolls over or never comes.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime, UtcOffset};

/// A `YYYY-MM-DD` calendar date that exists.
///
/// # Errors
/// The shape is wrong or the day does not exist in that month.
pub fn parse_date(s: &str) -> Result<Date, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("`{}` is not a YYYY-MM-DD date", s.escape_debug()));
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u16>().unwrap_or(0);
    let month = Month::try_from(u8::try_from(num(5..7)).unwrap_or(0))
        .map_err(|_| format!("`{s}` has no month {}", &s[5..7]))?;
    Date::from_calendar_date(
        i32::from(num(0..4)),
        month,
        u8::try_from(num(8..10)).unwrap_or(0),
    )
    .map_err(|_| format!("`{s}` is not a day of the calendar"))
}

/// Whether `s` is a `YYYY-MM-DD` date that exists.
#[must_use]
pub fn is_date(s: &str) -> bool {
    parse_date(s).is_ok()
}

/// `YYYY-MM-DD` of a date.
#[must_use]
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// The UTC date of a time in seconds since the epoch, `YYYY-MM-DD`.
#[must_use]
pub fn date_of(epoch_seconds: i64) -> String {
    let t =
        OffsetDateTime::from_unix_timestamp(epoch_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format_date(t.date())
}

/// A time in seconds since the epoch as RFC 3339 in UTC, `2026-11-24T06:00:00Z`.
#[must_use]
pub fn rfc3339_of(epoch_seconds: i64) -> String {
    let t =
        OffsetDateTime::from_unix_timestamp(epoch_seconds).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        format_date(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Today (UTC), `YYYY-MM-DD`.
#[must_use]
pub fn today() -> String {
    format_date(OffsetDateTime::now_utc().date())
}

/// An RFC 3339 time (`2026-11-24T06:00:00Z`, or with an offset) in seconds since the epoch.
///
/// # Errors
/// Not RFC 3339, or not a real time.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC).unix_timestamp())
        .map_err(|e| format!("`{}` is not an RFC 3339 time: {e}", s.escape_debug()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_real_days_are_dates() {
        for good in ["2027-01-31", "2028-02-29", "1970-01-01"] {
            assert!(is_date(good), "{good}");
        }
        for bad in [
            "2027-02-30",
            "2027-02-29",
            "2027-04-31",
            "2027-13-01",
            "2027-00-10",
            "27-01-01",
            "2027/01/01",
            "2027-1-01",
            "",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        assert!(parse_date("2027-02-30").unwrap_err().contains("not a day"));
    }

    #[test]
    fn times_and_days() {
        assert_eq!(date_of(0), "1970-01-01");
        assert_eq!(date_of(20_416 * 86_400 + 5), "2025-11-24");
        assert_eq!(
            parse_rfc3339("2026-11-24T06:00:00Z").unwrap(),
            1_795_500_000
        );
        assert_eq!(
            parse_rfc3339("2026-11-24T07:00:00+01:00").unwrap(),
            1_795_500_000
        );
        assert!(parse_rfc3339("2026-02-30T00:00:00Z").is_err());
        assert!(parse_rfc3339("2026-11-24").is_err());
        assert_eq!(today().len(), 10);
    }
}
