//! Human sizes for flags like `--max-file-size 500M`.

use crate::error::SizeError;

/// Parses `123`, `500K`, `100M`, `4G`, `1T` (binary multiples; an optional
/// trailing `B` or `iB` is accepted, case-insensitive).
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let err = |reason| SizeError {
        input: input.to_string(),
        reason,
    };
    let text = input.trim();
    let upper = text.to_ascii_uppercase();
    let unit_stripped = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let digits_end = unit_stripped
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(unit_stripped.len());
    let (number, unit) = unit_stripped.split_at(digits_end);
    if number.is_empty() {
        return Err(err("expected a number"));
    }
    let value: u64 = number.parse().map_err(|_| err("number too large"))?;
    let multiplier: u64 = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        "T" => 1 << 40,
        _ => return Err(err("unknown unit")),
    };
    value
        .checked_mul(multiplier)
        .ok_or_else(|| err("number too large"))
}

/// A size as people read it, for summaries and reports: `237 B`,
/// `1.5 KiB`, `2.3 GiB` (binary multiples, one decimal), never a ten-digit
/// byte count.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_human_sizes() {
        assert_eq!(parse_size("123").unwrap(), 123);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("4gb").unwrap(), 4 << 30);
        assert_eq!(parse_size("2KiB").unwrap(), 2048);
        assert!(parse_size("").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(12), "12 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1024), "1.0 KiB");
        assert_eq!(format_bytes(2_440_370_304), "2.3 GiB");
        assert_eq!(format_bytes(5 << 40), "5.0 TiB");
        assert_eq!(format_bytes(u64::MAX), "16.0 EiB");
    }
}
