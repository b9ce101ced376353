/**
 * Datetime strings as Qdrant reads them, in `datetime_range` bounds and in payload values alike
 * (`DateTimeWrapper::from_str` in Qdrant's `lib/segment/src/types.rs`, built on chrono 0.4). A string is tried
 * against these grammars in turn, and the first that accepts it wins:
 *
 * 1. RFC 3339: `2014-01-01T00:00:00Z`, `2014-01-01t00:00:00.5+01:00`, `2014-01-01 00:00:00z` (four-digit year,
 *    two-digit fields, `T`, `t` or a space between date and time, an offset below 24 hours).
 * 2. chrono's relaxed RFC 3339: fields need no padding (`2014-1-1T1:2:3Z`), whitespace may stand between
 *    components, a year beyond four digits needs a sign (`+20140-01-01T00:00:00Z`), the offset may be `UTC` (any
 *    case) and may lack its colon (`+0100`), and trailing whitespace is ignored.
 * 3. `%Y-%m-%dT%H:%M:%S%.f%#z` and `%Y-%m-%d %H:%M:%S%.f%#z`: an offset whose minutes may be missing (`+01`).
 * 4. Without an offset, read as UTC: `%Y-%m-%dT%H:%M:%S%.f`, `%Y-%m-%d %H:%M:%S%.f`, `%Y-%m-%dT%H:%M`,
 *    `%Y-%m-%d %H:%M`, `%Y-%m-%d`.
 *
 * Every numeric field skips leading whitespace, a space in a format matches any run of whitespace (or none), and a
 * leap second (`:60`) is accepted in any minute and sorts between `:59.999999` and the next minute. Instants are
 * kept to the microsecond, as Qdrant Edge 0.9 compares them: fractional digits past the sixth are dropped, in
 * bounds and stored values alike (so `00:00:00.0000005Z` equals `00:00:00Z`).
 *
 * @module
 */

/**
 * An instant: whole seconds since 1970-01-01T00:00:00Z, and nanoseconds (whole microseconds; up to 2e9 during a
 * leap second).
 */
export interface Instant {
  /** Whole seconds since the Unix epoch (negative before it). */
  seconds: number;
  /** Nanoseconds within the second, 0 to 1,999,999,999 (a leap second adds 1e9). */
  nanos: number;
}

/** Parses a datetime string; returns undefined when Qdrant would not accept it. */
export function parseDateTime(text: string): Instant | undefined {
  const out: Instant = { seconds: 0, nanos: 0 };
  return parseDateTimeInto(text, out) ? out : undefined;
}

/** Compares two instants: negative, zero or positive. */
export function compareInstants(a: Instant, b: Instant): number {
  return a.seconds !== b.seconds ? a.seconds - b.seconds : a.nanos - b.nanos;
}

/** Parses into `out` without allocating a result; returns whether the string was accepted. */
export function parseDateTimeInto(text: string, out: Instant): boolean {
  for (const grammar of GRAMMARS) {
    reset(fields);
    if (grammar(text, fields) && resolve(fields, out)) return true;
  }
  return false;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nano: number;
  hasTime: boolean;
  hasSecond: boolean;
  offset: number | undefined;
}

const fields: Fields = {
  year: 0,
  month: 0,
  day: 0,
  hour: 0,
  minute: 0,
  second: 0,
  nano: 0,
  hasTime: false,
  hasSecond: false,
  offset: undefined,
};

function reset(f: Fields): void {
  f.year =
    f.month =
    f.day =
    f.hour =
    f.minute =
    f.second =
    f.nano =
      0;
  f.hasTime = f.hasSecond = false;
  f.offset = undefined;
}

// A scanner position; -1 means the grammar failed.
type Pos = number;
const FAIL = -1;

function isWhitespace(code: number): boolean {
  // Unicode White_Space, as Rust's char::is_whitespace.
  return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0x85 || code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f ||
    code === 0x205f || code === 0x3000;
}

function skipSpace(s: string, at: Pos): Pos {
  while (at < s.length && isWhitespace(s.charCodeAt(at))) at++;
  return at;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

// chrono's scan::number: at least `min` and at most `max` ASCII digits. The value lands in `scanned`.
let scanned = 0;
function number(s: string, at: Pos, min: number, max: number): Pos {
  let value = 0;
  let i = 0;
  while (i < max && at + i < s.length && isDigit(s.charCodeAt(at + i))) {
    value = value * 10 + (s.charCodeAt(at + i) - 48);
    i++;
  }
  if (i < min) return FAIL;
  // i64 overflow is an error in chrono; any value that large is out of every field's range anyway.
  if (value > Number.MAX_SAFE_INTEGER) return FAIL;
  scanned = value;
  return at + i;
}

// A numeric item of a chrono format: leading whitespace skipped; a signed field (the year) takes any number of
// digits after an explicit sign, and at most `width` without one.
function numeric(s: string, at: Pos, width: number, signed: boolean): Pos {
  at = skipSpace(s, at);
  if (signed && (s[at] === "-" || s[at] === "+")) {
    const negative = s[at] === "-";
    at = number(s, at + 1, 1, Infinity);
    if (at !== FAIL && negative) scanned = -scanned;
    return at;
  }
  return number(s, at, 1, width);
}

function literal(s: string, at: Pos, text: string): Pos {
  return s.startsWith(text, at) ? at + text.length : FAIL;
}

// chrono's Fixed::Nanosecond: optional; a dot must be followed by at least one digit; digits past nine are skipped.
function fraction(s: string, at: Pos, f: Fields): Pos {
  if (s[at] !== ".") return at;
  let end = at + 1;
  let nano = 0;
  let digits = 0;
  while (end < s.length && isDigit(s.charCodeAt(end))) {
    if (digits < 9) {
      nano = nano * 10 + (s.charCodeAt(end) - 48);
      digits++;
    }
    end++;
  }
  if (digits === 0) return FAIL;
  for (let i = digits; i < 9; i++) nano *= 10;
  f.nano = nano;
  return end;
}

// chrono's scan::timezone_offset. `colons` selects colon_or_space (any run of ':' and whitespace) over exactly one
// ':'; `missingMinutes` allows `+HH` alone. The offset in seconds lands in `scanned`.
function offset(s: string, at: Pos, colons: boolean, missingMinutes: boolean): Pos {
  const first = s[at];
  if (first === "Z" || first === "z") {
    scanned = 0;
    return at + 1;
  }
  let negative: boolean;
  if (first === "+") negative = false;
  else if (first === "-" || first === "\u2212") negative = true;
  else return FAIL;
  at++;
  if (!isDigit(s.charCodeAt(at)) || !isDigit(s.charCodeAt(at + 1))) return FAIL;
  const hours = (s.charCodeAt(at) - 48) * 10 + (s.charCodeAt(at + 1) - 48);
  at += 2;
  if (colons) {
    while (at < s.length && (s[at] === ":" || isWhitespace(s.charCodeAt(at)))) at++;
  } else {
    if (s[at] !== ":") return FAIL;
    at++;
  }
  let minutes = 0;
  if (at >= s.length) {
    if (!missingMinutes) return FAIL;
  } else {
    const m1 = s.charCodeAt(at);
    const m2 = s.charCodeAt(at + 1);
    if (!(m1 >= 48 && m1 <= 53) || !isDigit(m2)) return FAIL;
    minutes = (m1 - 48) * 10 + (m2 - 48);
    at += 2;
  }
  const seconds = hours * 3600 + minutes * 60;
  scanned = negative ? -seconds : seconds;
  return at;
}

function setDate(f: Fields, year: number, month: number, day: number): boolean {
  f.year = year;
  f.month = month;
  f.day = day;
  return true;
}

type Grammar = (s: string, f: Fields) => boolean;

const rfc3339: Grammar = (s, f) => {
  let at = number(s, 0, 4, 4);
  if (at === FAIL) return false;
  const year = scanned;
  if ((at = literal(s, at, "-")) === FAIL || (at = number(s, at, 2, 2)) === FAIL) return false;
  const month = scanned;
  if ((at = literal(s, at, "-")) === FAIL || (at = number(s, at, 2, 2)) === FAIL) return false;
  setDate(f, year, month, scanned);
  const separator = s[at];
  if (separator !== "T" && separator !== "t" && separator !== " ") return false;
  if ((at = number(s, at + 1, 2, 2)) === FAIL) return false;
  f.hour = scanned;
  if ((at = literal(s, at, ":")) === FAIL || (at = number(s, at, 2, 2)) === FAIL) return false;
  f.minute = scanned;
  if ((at = literal(s, at, ":")) === FAIL || (at = number(s, at, 2, 2)) === FAIL) return false;
  f.second = scanned;
  f.hasTime = f.hasSecond = true;
  if ((at = fraction(s, at, f)) === FAIL) return false;
  if ((at = offset(s, at, false, false)) === FAIL) return false;
  if (Math.abs(scanned) > (23 * 60 + 59) * 60) return false;
  f.offset = scanned;
  return at === s.length;
};

// The date part shared by the relaxed grammar and the strftime formats: `%Y-%m-%d`, with optional whitespace
// before each dash when `spaced`.
function date(s: string, f: Fields, spaced: boolean): Pos {
  let at = numeric(s, 0, 4, true);
  if (at === FAIL) return FAIL;
  const year = scanned;
  if (spaced) at = skipSpace(s, at);
  if ((at = literal(s, at, "-")) === FAIL || (at = numeric(s, at, 2, false)) === FAIL) return FAIL;
  const month = scanned;
  if (spaced) at = skipSpace(s, at);
  if ((at = literal(s, at, "-")) === FAIL || (at = numeric(s, at, 2, false)) === FAIL) return FAIL;
  setDate(f, year, month, scanned);
  return at;
}

// `%H:%M[:%S%.f]` (the relaxed grammar also allows whitespace before each colon).
function time(s: string, at: Pos, f: Fields, seconds: boolean, spaced: boolean): Pos {
  if ((at = numeric(s, at, 2, false)) === FAIL) return FAIL;
  f.hour = scanned;
  if (spaced) at = skipSpace(s, at);
  if ((at = literal(s, at, ":")) === FAIL || (at = numeric(s, at, 2, false)) === FAIL) return FAIL;
  f.minute = scanned;
  f.hasTime = true;
  if (!seconds) return at;
  if (spaced) at = skipSpace(s, at);
  if ((at = literal(s, at, ":")) === FAIL || (at = numeric(s, at, 2, false)) === FAIL) return FAIL;
  f.second = scanned;
  f.hasSecond = true;
  return fraction(s, at, f);
}

const relaxed: Grammar = (s, f) => {
  let at = date(s, f, true);
  if (at === FAIL) return false;
  const separator = s[at];
  if (separator !== "T" && separator !== "t" && separator !== " ") return false;
  if ((at = time(s, at + 1, f, true, true)) === FAIL) return false;
  at = skipSpace(s, at);
  if (isUtc(s, at)) {
    f.offset = 0;
    at += 3;
  } else {
    if ((at = offset(s, at, true, false)) === FAIL) return false;
    f.offset = scanned;
  }
  return skipSpace(s, at) === s.length;
};

// `UTC` in any ASCII case (chrono compares bytes, so no Unicode case mapping applies).
function isUtc(s: string, at: Pos): boolean {
  return (s.charCodeAt(at) | 32) === 117 && (s.charCodeAt(at + 1) | 32) === 116 &&
    (s.charCodeAt(at + 2) | 32) === 99;
}

function strftime(separator: "T" | " ", withOffset: boolean, seconds: boolean): Grammar {
  return (s, f) => {
    let at = date(s, f, false);
    if (at === FAIL) return false;
    at = separator === "T" ? literal(s, at, "T") : skipSpace(s, at);
    if (at === FAIL || (at = time(s, at, f, seconds, false)) === FAIL) return false;
    if (withOffset) {
      if ((at = offset(s, skipSpace(s, at), true, true)) === FAIL) return false;
      f.offset = scanned;
    }
    return at === s.length;
  };
}

const dateOnly: Grammar = (s, f) => date(s, f, false) === s.length;

const GRAMMARS: readonly Grammar[] = [
  rfc3339,
  relaxed,
  strftime("T", true, true),
  strftime(" ", true, true),
  strftime("T", false, true),
  strftime(" ", false, true),
  strftime("T", false, false),
  strftime(" ", false, false),
  dateOnly,
];

// chrono 0.4.45 dates run from -262143-01-01 to +262142-12-31 (found by probing Qdrant Edge 0.9).
const YEAR_MIN = -262143;
const YEAR_MAX = 262142;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// 1970-01-01 lies this many days after 0000-03-01 in the proleptic Gregorian calendar.
const EPOCH_DAYS = 719468;

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - EPOCH_DAYS;
}

// chrono's Parsed setters and to_datetime: range checks, then local time minus offset.
function resolve(f: Fields, out: Instant): boolean {
  if (f.year < YEAR_MIN || f.year > YEAR_MAX) return false;
  if (f.month < 1 || f.month > 12 || f.day < 1) return false;
  const monthDays = f.month === 2 && isLeapYear(f.year) ? 29 : DAYS_IN_MONTH[f.month - 1];
  if (f.day > monthDays) return false;
  if (f.hour > 23 || f.minute > 59 || f.second > 60) return false;
  let second = f.second;
  let nano = f.nano;
  if (second === 60) {
    second = 59;
    nano += 1_000_000_000;
  }
  const offsetSeconds = f.offset ?? 0;
  if (Math.abs(offsetSeconds) >= 86_400) return false;
  const days = daysFromCivil(f.year, f.month, f.day);
  const seconds = days * 86_400 + f.hour * 3600 + f.minute * 60 + second - offsetSeconds;
  // The UTC instant must itself be a date chrono can represent.
  if (
    seconds < daysFromCivil(YEAR_MIN, 1, 1) * 86_400 || seconds >= daysFromCivil(YEAR_MAX + 1, 1, 1) * 86_400
  ) {
    return false;
  }
  out.seconds = seconds;
  // Qdrant Edge 0.9 compares datetimes to the microsecond: digits past the sixth are dropped (a leap second keeps
  // its extra second).
  out.nanos = nano - (nano % 1000);
  return true;
}
