//! NIP (Nomor Induk Pegawai), the 18-digit civil-servant number: birth date `yyyymmdd`,
//! appointment `yyyymm`, gender `1`/`2`, sequence `001`-`999`. Validation is pure; "today" is
//! passed in so the rule "appointment not in the future" is testable.

use serde::{Deserialize, Serialize};

/// A validated NIP.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nip(String);

/// Why a NIP is not valid; each names the part that is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NipError {
    /// Not exactly 18 ASCII digits.
    Format,
    /// Positions 1-8 are not a real date.
    BirthDate,
    /// Positions 9-14 are not a real year and month.
    AppointmentDate,
    /// Appointed before the person's 18th birthday.
    AppointedUnderage,
    /// Appointed after today.
    AppointedInFuture,
    /// Position 15 is neither 1 (male) nor 2 (female).
    Gender,
    /// Positions 16-18 are 000.
    Sequence,
}

impl std::fmt::Display for NipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NipError::Format => "NIP must be exactly 18 digits",
            NipError::BirthDate => "NIP digits 1-8 must be a real birth date (yyyymmdd)",
            NipError::AppointmentDate => "NIP digits 9-14 must be a real appointment month (yyyymm)",
            NipError::AppointedUnderage => "NIP appointment month is before the 18th birthday",
            NipError::AppointedInFuture => "NIP appointment month is in the future",
            NipError::Gender => "NIP digit 15 must be 1 or 2",
            NipError::Sequence => "NIP digits 16-18 must be 001-999",
        })
    }
}

impl std::error::Error for NipError {}

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u32,
    pub month: u32,
    pub day: u32,
}

impl Date {
    /// The date of a unix timestamp (UTC), by Howard Hinnant's `civil_from_days`.
    pub fn from_unix(seconds: i64) -> Self {
        let z = seconds.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let clamp = |v: i64| u32::try_from(v).unwrap_or(0);
        Self { year: clamp(year), month: clamp(month), day: clamp(day) }
    }

    /// Midnight UTC of this date as unix seconds (Howard Hinnant's `days_from_civil`).
    pub fn to_unix(self) -> i64 {
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468) * 86_400
    }

    /// Whether year, month and day form a real date.
    pub fn is_valid(self) -> bool {
        (1..=12).contains(&self.month) && self.day >= 1 && self.day <= days_in_month(self.year, self.month)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 0,
    }
}

fn number(digits: &str) -> u32 {
    digits.bytes().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
}

impl Nip {
    /// Validates `value` as of `today`.
    pub fn parse(value: &str, today: Date) -> Result<Self, NipError> {
        if value.len() != 18 || !value.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NipError::Format);
        }
        let birth = Date { year: number(&value[0..4]), month: number(&value[4..6]), day: number(&value[6..8]) };
        if !birth.is_valid() || birth > today {
            return Err(NipError::BirthDate);
        }
        let appointed = (number(&value[8..12]), number(&value[12..14]));
        if !(1..=12).contains(&appointed.1) {
            return Err(NipError::AppointmentDate);
        }
        // The appointment month may not precede the month of the 18th birthday.
        if appointed < (birth.year + 18, birth.month) {
            return Err(NipError::AppointedUnderage);
        }
        if appointed > (today.year, today.month) {
            return Err(NipError::AppointedInFuture);
        }
        if !matches!(&value[14..15], "1" | "2") {
            return Err(NipError::Gender);
        }
        if &value[15..18] == "000" {
            return Err(NipError::Sequence);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Nip {
    type Error = NipError;
    /// For stored values: only the format is re-checked (dates were checked when it was set,
    /// and a NIP is immutable once set).
    fn try_from(value: String) -> Result<Self, NipError> {
        if value.len() == 18 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(value))
        } else {
            Err(NipError::Format)
        }
    }
}

impl From<Nip> for String {
    fn from(nip: Nip) -> String {
        nip.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_unix_seconds() {
        for date in [
            Date { year: 1970, month: 1, day: 1 },
            Date { year: 2024, month: 2, day: 29 },
            Date { year: 2026, month: 11, day: 23 },
        ] {
            assert_eq!(Date::from_unix(date.to_unix()), date);
        }
        assert_eq!(Date { year: 1970, month: 1, day: 2 }.to_unix(), 86_400);
    }

    const TODAY: Date = Date { year: 2026, month: 11, day: 23 };

    #[test]
    fn a_well_formed_nip_is_accepted() {
        // Born 1985-04-12, appointed 2010-03, male, sequence 001.
        assert_eq!(Nip::parse("198504122010031001", TODAY).unwrap().as_str(), "198504122010031001");
    }

    #[test]
    fn each_broken_part_is_named() {
        let cases = [
            ("19850412201003100", NipError::Format),
            ("19850412201003100x", NipError::Format),
            ("198502302010031001", NipError::BirthDate),
            ("198504122010131001", NipError::AppointmentDate),
            ("198504122003031001", NipError::AppointedUnderage),
            ("198504122027011001", NipError::AppointedInFuture),
            ("198504122010033001", NipError::Gender),
            ("198504122010031000", NipError::Sequence),
        ];
        for (nip, expected) in cases {
            assert_eq!(Nip::parse(nip, TODAY), Err(expected), "{nip}");
        }
    }

    #[test]
    fn appointment_in_the_month_of_the_18th_birthday_is_allowed() {
        assert!(Nip::parse("198504122003041001", TODAY).is_ok());
        assert_eq!(Nip::parse("198504122003031001", TODAY), Err(NipError::AppointedUnderage));
    }

    #[test]
    fn leap_days_follow_the_gregorian_calendar() {
        assert!(Nip::parse("200002292020011001", TODAY).is_ok(), "2000 is a leap year");
        assert_eq!(Nip::parse("190002292020011001", TODAY), Err(NipError::BirthDate), "1900 is not");
    }

    #[test]
    fn unix_time_converts_to_the_civil_date() {
        assert_eq!(Date::from_unix(0), Date { year: 1970, month: 1, day: 1 });
        assert_eq!(Date::from_unix(1_795_440_000), Date { year: 2026, month: 11, day: 23 });
        assert_eq!(Date::from_unix(951_782_400), Date { year: 2000, month: 2, day: 29 });
    }
}
