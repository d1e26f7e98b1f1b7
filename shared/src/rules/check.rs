//! What a form checks before it records anything: resident ID numbers (GB 11643: 18 characters
//! with the ISO 7064 MOD 11-2 check character, or the old 15 digits), mobile and landline
//! numbers, step and visit dates (none before the case was received, none more than a day
//! ahead), the number of people of a collective visit 集访 (five or more), required fields.
//!
//! Each problem says itself in Chinese and in English ([`Problem::zh`], [`Problem::en`]), so the
//! tablet shows it beside the field in the screen's language. Pure: `today` is a parameter.

use crate::Date;

/// Why a value was not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A field that must be filled is empty.
    Required,
    /// An ID number of the wrong length or with characters other than digits (and a final X).
    IdShape,
    /// An ID number whose birth date is no date.
    IdBirth,
    /// An 18-character ID number whose last character is not the one its digits give.
    IdCheck { expected: char },
    /// Neither a mobile (11 digits from 13–19) nor a landline (area code, 7–8 digits).
    Phone,
    /// Not a date (YYYY-MM-DD).
    DateShape,
    /// Before the day the case was received.
    BeforeReceived(Date),
    /// More than a day after today.
    Ahead(Date),
    /// Not a whole number of people from 1 to 100,000.
    People,
    /// A collective visit 集访 is five or more people.
    CollectiveFew,
}

impl Problem {
    pub fn zh(&self) -> String {
        match self {
            Problem::Required => "必填".into(),
            Problem::IdShape => "身份证号应为18位（最后一位可为X）或旧式15位数字".into(),
            Problem::IdBirth => "身份证号中的出生日期不存在".into(),
            Problem::IdCheck { expected } => {
                format!("身份证号校验位不符（按前17位应为 {expected}），请核对")
            }
            Problem::Phone => "电话应为11位手机号，或带区号的固定电话（如 0739-5321234）".into(),
            Problem::DateShape => "日期格式应为 年-月-日（如 2026-12-01）".into(),
            Problem::BeforeReceived(d) => format!("日期不能早于本案登记日 {d}"),
            Problem::Ahead(d) => format!("日期不能晚于明天（{d}）"),
            Problem::People => "人数应为1以上的整数".into(),
            Problem::CollectiveFew => "集体访（集访）人数应为5人及以上".into(),
        }
    }

    pub fn en(&self) -> String {
        match self {
            Problem::Required => "required".into(),
            Problem::IdShape => {
                "an ID number is 18 characters (the last may be X), or 15 digits for an old one"
                    .into()
            }
            Problem::IdBirth => "the birth date in this ID number does not exist".into(),
            Problem::IdCheck { expected } => {
                format!("the check character is wrong (the first 17 digits give {expected})")
            }
            Problem::Phone => {
                "a phone is an 11-digit mobile, or a landline with its area code (0739-5321234)"
                    .into()
            }
            Problem::DateShape => "a date is year-month-day (2026-12-01)".into(),
            Problem::BeforeReceived(d) => format!("not before the day the case was received, {d}"),
            Problem::Ahead(d) => format!("not later than tomorrow ({d})"),
            Problem::People => "the number of people is a whole number, 1 or more".into(),
            Problem::CollectiveFew => "a collective visit is five people or more".into(),
        }
    }
}

/// GB 11643's weights for the first 17 digits, and the check character for each remainder.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character the first 17 digits of an ID number give (ISO 7064 MOD 11-2).
pub fn id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

/// A resident ID number: 18 characters with a valid birth date and check character (a lower-
/// case x is read as X), or an old 15-digit number with a valid birth date (19YYMMDD).
pub fn id_number(value: &str) -> Result<(), Problem> {
    let v = value.trim().to_ascii_uppercase();
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let birth = |s: &str| -> Result<(), Problem> {
        let ymd = format!("{}-{}-{}", &s[0..4], &s[4..6], &s[6..8]);
        ymd.parse::<Date>()
            .map(|_| ())
            .map_err(|_| Problem::IdBirth)
    };
    match v.len() {
        18 => {
            let (first, last) = v.split_at(17);
            if !digits(first) || !(digits(last) || last == "X") {
                return Err(Problem::IdShape);
            }
            birth(&first[6..14])?;
            let expected = id_check_char(first).ok_or(Problem::IdShape)?;
            if last.starts_with(expected) {
                Ok(())
            } else {
                Err(Problem::IdCheck { expected })
            }
        }
        15 if digits(&v) => birth(&format!("19{}", &v[6..12])),
        _ => Err(Problem::IdShape),
    }
}

/// A mobile (11 digits, 13x–19x, optionally +86) or a landline (a 3- or 4-digit area code from
/// 0, then 7 or 8 digits; spaces and hyphens between groups allowed; an extension after `-` or
/// 转 of up to 6 digits).
pub fn phone(value: &str) -> Result<(), Problem> {
    let v: String = value
        .trim()
        .chars()
        .filter(|c| !matches!(c, ' ' | '(' | ')' | '（' | '）'))
        .collect();
    let v = v.strip_prefix("+86").unwrap_or(&v);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mobile = v.len() == 11
        && digits(v)
        && v.starts_with('1')
        && (b'3'..=b'9').contains(&v.as_bytes()[1]);
    if mobile {
        return Ok(());
    }
    // A landline: area code, number, extension.
    let (main, extension) = match v.split_once('转') {
        Some((m, e)) => (m.to_string(), Some(e.to_string())),
        None => (v.to_string(), None),
    };
    let groups: Vec<&str> = main.split('-').collect();
    let (area, number, ext) = match groups.as_slice() {
        [a, n] => (*a, *n, extension.as_deref()),
        [a, n, e] if extension.is_none() => (*a, *n, Some(*e)),
        [joined] if joined.starts_with('0') && (10..=12).contains(&joined.len()) => {
            // 07395321234: a 4-digit area code with 7 digits, or 3 and 8.
            let split = if joined.len() == 11
                && joined.as_bytes()[1] != b'1'
                && joined.as_bytes()[1] != b'2'
            {
                4
            } else {
                3
            };
            (&joined[..split], &joined[split..], extension.as_deref())
        }
        _ => return Err(Problem::Phone),
    };
    let area_ok = digits(area) && area.starts_with('0') && (3..=4).contains(&area.len());
    let number_ok = digits(number) && (7..=8).contains(&number.len()) && !number.starts_with('0');
    let ext_ok = ext.is_none_or(|e| digits(e) && e.len() <= 6);
    if area_ok && number_ok && ext_ok {
        Ok(())
    } else {
        Err(Problem::Phone)
    }
}

/// The date of a step or visit: a date, not before `received`, not after tomorrow.
pub fn entry_date(value: &str, received: Date, today: Date) -> Result<Date, Problem> {
    let on: Date = value.trim().parse().map_err(|_| Problem::DateShape)?;
    if on < received {
        return Err(Problem::BeforeReceived(received));
    }
    let latest = today.add_days(1);
    if on > latest {
        return Err(Problem::Ahead(latest));
    }
    Ok(on)
}

/// The number of people of a matter and its form: a whole number from 1, five or more for a
/// collective visit.
pub fn people(value: &str, collective: bool) -> Result<i64, Problem> {
    let n: i64 = value.trim().parse().map_err(|_| Problem::People)?;
    if !(1..=100_000).contains(&n) {
        return Err(Problem::People);
    }
    if collective && n < 5 {
        return Err(Problem::CollectiveFew);
    }
    Ok(n)
}

/// A field that must be filled.
pub fn required(value: &str) -> Result<(), Problem> {
    if value.trim().is_empty() {
        Err(Problem::Required)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    /// Every validation row of issue 16 and their neighbours: (what, value, accepted?).
    #[test]
    fn id_numbers_and_phones_table() {
        let ids: &[(&str, Result<(), Problem>)] = &[
            // GB 11643's own example and a computed one.
            ("11010519491231002X", Ok(())),
            ("11010519491231002x", Ok(())),
            ("430581196504120018", Ok(())),
            // An 18-digit number with a wrong check character.
            (
                "430581196504120017",
                Err(Problem::IdCheck { expected: '8' }),
            ),
            (
                "110105194912310021",
                Err(Problem::IdCheck { expected: 'X' }),
            ),
            // Five digits; letters; an X in the middle; 17 and 19 characters.
            ("43058", Err(Problem::IdShape)),
            ("43058119650412abcd", Err(Problem::IdShape)),
            ("4305811965X4120011", Err(Problem::IdShape)),
            ("43058119650412001", Err(Problem::IdShape)),
            ("4305811965041200111", Err(Problem::IdShape)),
            // No 30th of February; no 13th month.
            ("430581196502300014", Err(Problem::IdBirth)),
            ("430581196513010014", Err(Problem::IdBirth)),
            // Old 15-digit numbers: a real date, or not.
            ("430581650412001", Ok(())),
            ("430581651312001", Err(Problem::IdBirth)),
            ("", Err(Problem::IdShape)),
        ];
        for (value, want) in ids {
            assert_eq!(&id_number(value), want, "ID number {value:?}");
        }
        let phones: &[(&str, bool)] = &[
            ("13812345678", true),
            ("138 1234 5678", true),
            ("+8613812345678", true),
            ("19912345678", true),
            ("12812345678", false),
            ("1381234567", false),
            ("abc", false),
            ("", false),
            ("0739-5321234", true),
            ("010-12345678", true),
            ("(0739)5321234", true),
            ("07395321234", true),
            ("01012345678", true),
            ("0739-5321234-806", true),
            ("0739-5321234转806", true),
            ("739-5321234", false),
            ("0739-0321234", false),
            ("0739-53212", false),
            ("5321234", false),
        ];
        for (value, ok) in phones {
            assert_eq!(phone(value).is_ok(), *ok, "phone {value:?}");
        }
    }

    #[test]
    fn dates_people_and_required_table() {
        let (received, today) = (d("2026-11-20"), d("2026-12-01"));
        let dates: &[(&str, Result<Date, Problem>)] = &[
            ("2026-12-01", Ok(d("2026-12-01"))),
            ("2026-12-02", Ok(d("2026-12-02"))),
            ("2026-11-20", Ok(d("2026-11-20"))),
            // 2099-06-01 and 1990-01-01 of the issue.
            ("2099-06-01", Err(Problem::Ahead(d("2026-12-02")))),
            ("1990-01-01", Err(Problem::BeforeReceived(received))),
            ("2026-12-03", Err(Problem::Ahead(d("2026-12-02")))),
            ("2026-11-19", Err(Problem::BeforeReceived(received))),
            ("2026-02-30", Err(Problem::DateShape)),
            ("12/01/2026", Err(Problem::DateShape)),
            ("", Err(Problem::DateShape)),
        ];
        for (value, want) in dates {
            assert_eq!(&entry_date(value, received, today), want, "date {value:?}");
        }
        let people_rows: &[(&str, bool, Result<i64, Problem>)] = &[
            ("1", false, Ok(1)),
            ("5", true, Ok(5)),
            ("12", true, Ok(12)),
            // A collective visit of one person; -5; abc; 0; 2.5.
            ("1", true, Err(Problem::CollectiveFew)),
            ("4", true, Err(Problem::CollectiveFew)),
            ("-5", false, Err(Problem::People)),
            ("abc", false, Err(Problem::People)),
            ("0", false, Err(Problem::People)),
            ("2.5", false, Err(Problem::People)),
        ];
        for (value, collective, want) in people_rows {
            assert_eq!(
                &people(value, *collective),
                want,
                "people {value:?} collective {collective}"
            );
        }
        assert_eq!(required("  "), Err(Problem::Required));
        assert_eq!(required("王建华"), Ok(()));
    }

    #[test]
    fn every_problem_says_itself_in_both_languages() {
        let all = [
            Problem::Required,
            Problem::IdShape,
            Problem::IdBirth,
            Problem::IdCheck { expected: 'X' },
            Problem::Phone,
            Problem::DateShape,
            Problem::BeforeReceived(d("2026-11-20")),
            Problem::Ahead(d("2026-12-02")),
            Problem::People,
            Problem::CollectiveFew,
        ];
        for p in all {
            let zh = p.zh();
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{zh}"
            );
            assert!(
                !zh.chars().any(|c| c.is_ascii_lowercase()),
                "no English in {zh}"
            );
            assert!(p.en().is_ascii() || p.en().contains('–'), "{}", p.en());
        }
    }
}
