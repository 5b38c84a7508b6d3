//! Numbers and durations in page wording, so what a page promises ("links work for
//! 30 minutes") is always what the [`AccessPolicy`](crate::AccessPolicy) enforces. Used by
//! the emails here and by the pages of the HTTP host.

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use crate::i18n::{Arg, Language, message};
use crate::model::TimeZone;

/// An instant as a contact reads it: in their zone, with the zone named twice, by its
/// abbreviation of the day (which says whether daylight saving is on) and by its IANA
/// name (abbreviations are ambiguous: CST is in America and in China):
/// "Tue 3 Mar 2026, 09:00 EST (America/New_York)". Every time the portal shows a
/// client, in emails and pages, goes through here.
pub fn local_time(at: DateTime<Utc>, zone: TimeZone) -> String {
    local_time_in(at, zone, Language::En)
}

/// [`local_time`] in `language`: day and month names from the catalog, the order the
/// language writes them in ("mar 3 mar 2026, 09:00 EST (America/New_York)"); the zone
/// is named the same way in every language.
pub fn local_time_in(at: DateTime<Utc>, zone: TimeZone, language: Language) -> String {
    let local = at.with_timezone(&zone.tz());
    let shown = message(
        language,
        "date-time",
        &[
            ("date", Arg::Text(date_in(local.date_naive(), language))),
            ("clock", Arg::Text(local.format("%H:%M %Z").to_string())),
        ],
    );
    named(shown, &local, zone)
}

/// Adds the IANA name after a formatted local time, unless the abbreviation already is
/// it ("14:00 UTC", not "14:00 UTC (UTC)").
fn named(shown: String, local: &DateTime<chrono_tz::Tz>, zone: TimeZone) -> String {
    if local.format("%Z").to_string() == zone.name() {
        shown
    } else {
        format!("{shown} ({})", zone.name())
    }
}

/// Only the clock time of [`local_time`], for an instant the reader knows the day of
/// ("until 14:30 CET (Europe/Paris)").
pub fn local_clock(at: DateTime<Utc>, zone: TimeZone) -> String {
    local_clock_in(at, zone, Language::En)
}

/// [`local_clock`] in `language` (the clock reads the same; kept for symmetry, so a
/// page passes its language everywhere and a future format change is one place).
pub fn local_clock_in(at: DateTime<Utc>, zone: TimeZone, _language: Language) -> String {
    let local = at.with_timezone(&zone.tz());
    named(local.format("%H:%M %Z").to_string(), &local, zone)
}

/// A date without a time (a due date), as people write it: "Tue 3 Mar 2026".
pub fn date(d: NaiveDate) -> String {
    date_in(d, Language::En)
}

/// [`date`] in `language`: "Tue 3 Mar 2026", "mar 3 mar 2026".
pub fn date_in(d: NaiveDate, language: Language) -> String {
    let weekday = message(
        language,
        "date-weekday",
        &[("weekday", d.weekday().number_from_monday().into())],
    );
    let month = message(language, "date-month", &[("month", d.month().into())]);
    message(
        language,
        "date",
        &[
            ("weekday", Arg::Text(weekday)),
            ("day", Arg::Text(d.day().to_string())),
            ("month", Arg::Text(month)),
            ("year", Arg::Text(d.year().to_string())),
        ],
    )
}

/// A duration as a person says it: "30 minutes", "1 minute", "an hour", "2 hours",
/// "1 hour 30 minutes", "a day", "1 day 12 hours".
///
/// Every non-zero unit (days, hours, minutes, seconds) is named, largest first, so
/// nothing is rounded away. A lone hour or day reads "an hour" / "a day"; a lone
/// minute or second keeps its number ("1 minute"), which reads as exact. Zero and
/// negative durations read "0 minutes".
pub fn duration(d: TimeDelta) -> String {
    duration_in(d, Language::En)
}

/// [`duration`] in `language`: "30 minutos", "una hora", "1 día 12 horas".
pub fn duration_in(d: TimeDelta, language: Language) -> String {
    let total = d.num_seconds();
    let unit = |key: &str, n: i64| message(language, key, &[("count", Arg::Number(n))]);
    if total <= 0 {
        return unit("count-minutes", 0);
    }
    let units = [
        (total / 86_400, "count-days", Some("duration-a-day")),
        (total / 3_600 % 24, "count-hours", Some("duration-an-hour")),
        (total / 60 % 60, "count-minutes", None),
        (total % 60, "count-seconds", None),
    ];
    let parts: Vec<_> = units.iter().filter(|(n, _, _)| *n > 0).collect();
    match parts.as_slice() {
        [(1, _, Some(alone))] => message(language, alone, &[]),
        _ => parts
            .iter()
            .map(|(n, key, _)| unit(key, *n))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// "1 code", "5 codes": a number with its noun, plural when it is not one.
pub fn count(n: impl Into<i64>, noun: &str) -> String {
    let n = n.into();
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A size for people: "812 bytes", "1.5 KB", "25 MB", "1 GB" (binary units, at most
/// one decimal, a whole number from 10 up). Used for size limits and file sizes, so a
/// limit and the file it refused read the same way.
pub fn bytes(n: u64) -> String {
    bytes_in(n, Language::En)
}

/// [`bytes()`] in `language`: the decimal separator of the language ("1,5 KB").
pub fn bytes_in(n: u64, language: Language) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return message(
            language,
            "count-bytes",
            &[("count", Arg::Number(i64::try_from(n).unwrap_or(i64::MAX)))],
        );
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = if value >= 10.0 || (value.fract() * 10.0).round() == 0.0 {
        format!("{value:.0}")
    } else {
        number_in(&format!("{value:.1}"), language)
    };
    // 1023.96 KB rounds to "1024": say the next unit instead.
    if text == "1024" && unit < UNITS.len() - 1 {
        return format!("1 {}", UNITS[unit + 1]);
    }
    format!("{text} {}", UNITS[unit])
}

/// A number already formatted with a `.` decimal point, with the decimal separator
/// of `language` ("1.5" → "1,5" in Spanish).
pub fn number_in(formatted: &str, language: Language) -> String {
    match language {
        Language::En => formatted.to_owned(),
        Language::Es => formatted.replace('.', ","),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_say_them() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(1023), "1023 bytes");
        assert_eq!(bytes(1024), "1 KB");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(25 * 1024 * 1024), "25 MB");
        assert_eq!(bytes(100 * 1024 * 1024), "100 MB");
        assert_eq!(bytes(1024 * 1024 * 1024), "1 GB");
        assert_eq!(bytes(2 * 1024 * 1024 * 1024), "2 GB");
        assert_eq!(bytes(1024 * 1024 - 1), "1 MB");
        assert_eq!(bytes(10 * 1024 + 600), "11 KB");
    }

    #[test]
    fn single_units() {
        assert_eq!(duration(TimeDelta::minutes(30)), "30 minutes");
        assert_eq!(duration(TimeDelta::minutes(1)), "1 minute");
        assert_eq!(duration(TimeDelta::minutes(10)), "10 minutes");
        assert_eq!(duration(TimeDelta::hours(1)), "an hour");
        assert_eq!(duration(TimeDelta::hours(2)), "2 hours");
        assert_eq!(duration(TimeDelta::hours(24)), "a day");
        assert_eq!(duration(TimeDelta::days(3)), "3 days");
        assert_eq!(duration(TimeDelta::seconds(1)), "1 second");
        assert_eq!(duration(TimeDelta::seconds(45)), "45 seconds");
    }

    #[test]
    fn mixed_units_name_every_part_largest_first() {
        assert_eq!(duration(TimeDelta::minutes(90)), "1 hour 30 minutes");
        assert_eq!(duration(TimeDelta::minutes(61)), "1 hour 1 minute");
        assert_eq!(duration(TimeDelta::hours(36)), "1 day 12 hours");
        assert_eq!(duration(TimeDelta::hours(48)), "2 days");
        assert_eq!(
            duration(TimeDelta::days(1) + TimeDelta::minutes(5)),
            "1 day 5 minutes"
        );
        assert_eq!(duration(TimeDelta::seconds(90)), "1 minute 30 seconds");
        assert_eq!(
            duration(TimeDelta::hours(2) + TimeDelta::seconds(1)),
            "2 hours 1 second"
        );
    }

    #[test]
    fn boundaries() {
        assert_eq!(duration(TimeDelta::zero()), "0 minutes");
        assert_eq!(duration(TimeDelta::seconds(-30)), "0 minutes");
        assert_eq!(duration(TimeDelta::seconds(59)), "59 seconds");
        assert_eq!(duration(TimeDelta::seconds(60)), "1 minute");
        assert_eq!(duration(TimeDelta::seconds(3_599)), "59 minutes 59 seconds");
        assert_eq!(duration(TimeDelta::seconds(3_600)), "an hour");
        assert_eq!(
            duration(TimeDelta::seconds(86_399)),
            "23 hours 59 minutes 59 seconds"
        );
        assert_eq!(duration(TimeDelta::seconds(86_400)), "a day");
        assert_eq!(
            duration(TimeDelta::milliseconds(1_500)),
            "1 second",
            "below a second is dropped"
        );
    }

    #[test]
    fn counts() {
        assert_eq!(count(0u32, "code"), "0 codes");
        assert_eq!(count(1u32, "code"), "1 code");
        assert_eq!(count(5u32, "code"), "5 codes");
        assert_eq!(count(1u32, "time"), "1 time");
    }

    #[test]
    fn local_times_name_their_zone_across_daylight_saving() {
        use chrono::TimeZone as _;
        let ny = TimeZone::parse("America/New_York").unwrap();
        // 14:00 UTC is 09:00 in New York in winter (EST, UTC-5) ...
        let winter = Utc.with_ymd_and_hms(2026, 3, 6, 14, 0, 0).unwrap();
        assert_eq!(
            local_time(winter, ny),
            "Fri 6 Mar 2026, 09:00 EST (America/New_York)"
        );
        // ... and 10:00 after the clocks moved on 8 March (EDT, UTC-4).
        let summer = Utc.with_ymd_and_hms(2026, 3, 9, 14, 0, 0).unwrap();
        assert_eq!(
            local_time(summer, ny),
            "Mon 9 Mar 2026, 10:00 EDT (America/New_York)"
        );
        assert_eq!(local_clock(summer, TimeZone::UTC), "14:00 UTC");
        assert_eq!(
            date(NaiveDate::from_ymd_opt(2026, 3, 3).unwrap()),
            "Tue 3 Mar 2026"
        );
    }

    #[test]
    fn spanish_dates_durations_and_sizes() {
        use chrono::TimeZone as _;
        let es = Language::Es;
        let ny = TimeZone::parse("America/New_York").unwrap();
        let winter = Utc.with_ymd_and_hms(2026, 3, 3, 14, 0, 0).unwrap();
        assert_eq!(
            local_time_in(winter, ny, es),
            "mar 3 mar 2026, 09:00 EST (America/New_York)"
        );
        assert_eq!(
            date_in(NaiveDate::from_ymd_opt(2026, 8, 16).unwrap(), es),
            "dom 16 ago 2026"
        );
        assert_eq!(
            date_in(NaiveDate::from_ymd_opt(2026, 9, 2).unwrap(), es),
            "mié 2 sept 2026"
        );
        assert_eq!(duration_in(TimeDelta::minutes(30), es), "30 minutos");
        assert_eq!(duration_in(TimeDelta::minutes(1), es), "1 minuto");
        assert_eq!(duration_in(TimeDelta::hours(1), es), "una hora");
        assert_eq!(duration_in(TimeDelta::hours(24), es), "un día");
        assert_eq!(duration_in(TimeDelta::hours(36), es), "1 día 12 horas");
        assert_eq!(duration_in(TimeDelta::zero(), es), "0 minutos");
        assert_eq!(bytes_in(1536, es), "1,5 KB");
        assert_eq!(bytes_in(1, es), "1 byte");
        assert_eq!(bytes_in(812, es), "812 bytes");
        assert_eq!(bytes_in(25 * 1024 * 1024, es), "25 MB");
    }
}
