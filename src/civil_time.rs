//! Calendar dates without a date crate: patscan only needs to read the RFC
//! 3339 dates it writes for commits, and to write UTC timestamps (audit
//! log, GitLab report, the HTML timeline's axis). Howard Hinnant's
//! `days_from_civil` / `civil_from_days`, proleptic Gregorian.

/// Seconds since the epoch of an RFC 3339 date as commit metadata has it
/// (`2024-05-01T12:00:00+02:00` or `…Z`). Dates with different offsets
/// compare wrongly as text, so they are compared as instants.
pub fn epoch_seconds(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> { date.get(range)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let offset = match &date[19..] {
        "Z" => 0,
        zone if zone.len() == 6 => {
            let sign = match zone.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            sign * (num(20..22)? * 3600 + num(23..25)? * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// Days since 1970-01-01 of the calendar date a text starts with
/// (`2031-01-01`, `2031-01-01T00:00:00Z`, `2031-01-01 00:00:00 UTC`): how
/// issuers state expiry dates. The time of day is ignored.
pub fn epoch_day(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' || b.get(10).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let text = date.get(range)?;
        text.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| text.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// `YYYY-MM-DDTHH:MM:SS` in UTC (no zone designator) of seconds since the
/// epoch.
pub fn utc_timestamp(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `YYYY-MM-DD` (UTC) of seconds since the epoch.
pub fn utc_day(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Days since 1970-01-01 of a date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_dates_in_the_issuers_formats() {
        assert_eq!(epoch_day("1970-01-02"), Some(1));
        assert_eq!(epoch_day("1970-01-02T23:59:59Z"), Some(1));
        assert_eq!(epoch_day("1970-01-02 00:00:00 UTC"), Some(1));
        for bad in ["", "1970-1-02", "1970-13-01", "19700-01-01", "+970-01-01"] {
            assert_eq!(epoch_day(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_with_offsets_compare_as_instants() {
        assert_eq!(epoch_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(
            epoch_seconds("2024-05-01T12:00:00+02:00"),
            epoch_seconds("2024-05-01T10:00:00Z")
        );
        assert_eq!(epoch_seconds("yesterday"), None);
    }

    #[test]
    fn timestamps_round_trip_through_the_parser() {
        for secs in [0, 951_825_600, 1_795_000_000, -86_400 * 365] {
            let text = utc_timestamp(secs);
            assert_eq!(epoch_seconds(&format!("{text}Z")), Some(secs), "{text}");
        }
        assert_eq!(utc_timestamp(951_825_600), "2000-02-29T12:00:00");
        assert_eq!(utc_day(1_795_000_000), "2026-11-18");
    }
}
