//! Minimal strict JSON (RFC 8259): a value tree, a parser and a compact
//! serializer. It replaces serde_json to keep the wasm build small; the
//! protocol code only reads a few fields out of metadata and token responses.
//!
//! Numbers avoid core's float parsing and formatting, which would add some
//! 25 KB to the wasm (a 10 KB power-of-five table, Grisu and Dragon4): the
//! library only ever writes integers (timestamps, counts), and only reads
//! integers that matter (`expires_in`). See `decimal_to_f64` and `write_json`.

use std::fmt;

/// A parsed JSON value. Objects keep members in document order (duplicates
/// included) so that lookups can apply the same last-wins rule as JS.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Where and why parsing failed; `offset` is a byte offset into the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub offset: usize,
    pub reason: &'static str,
}

/// Deep enough for any real OAuth document, shallow enough that hostile input
/// cannot exhaust the (small, in wasm) stack through recursion.
const MAX_DEPTH: usize = 64;

impl Json {
    /// Parses exactly one JSON value, allowing surrounding whitespace.
    /// Numbers that overflow f64 are rejected rather than turned into
    /// infinities, which JSON cannot represent.
    pub fn parse(s: &str) -> Result<Json, JsonError> {
        let mut p = Parser { s, pos: 0 };
        p.skip_ws();
        let value = p.value(0)?;
        p.skip_ws();
        if p.pos != s.len() {
            return Err(p.err("trailing characters"));
        }
        Ok(value)
    }

    /// Object member by key; the last duplicate wins, as in JS `JSON.parse`.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Json::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.get(key)?.as_str()
    }

    /// Some only when every element is a string: a mixed array in metadata is
    /// malformed, and silently dropping elements could hide that.
    pub fn string_array_field(&self, key: &str) -> Option<Vec<String>> {
        // A loop, not `collect::<Option<Vec<_>>>()`, whose adapters are bigger.
        let items = self.get(key)?.as_array()?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(item.as_str()?.to_owned());
        }
        Some(out)
    }

    pub fn object(members: Vec<(&str, Json)>) -> Json {
        Json::Object(members.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

impl From<&str> for Json {
    fn from(s: &str) -> Self {
        Json::String(s.to_owned())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Self {
        Json::String(s)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Self {
        Json::Bool(b)
    }
}

impl From<f64> for Json {
    fn from(n: f64) -> Self {
        Json::Number(n)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Self {
        Json::Number(n as f64)
    }
}

impl From<Vec<String>> for Json {
    fn from(items: Vec<String>) -> Self {
        Json::Array(items.into_iter().map(Json::String).collect())
    }
}

impl<T: Into<Json>> From<Option<T>> for Json {
    fn from(v: Option<T>) -> Self {
        v.map_or(Json::Null, Into::into)
    }
}

/// Writes a stored record as a flat JSON object, member by member: no value
/// tree, no copies. The text is what `Json`'s Display gives for the same
/// members.
pub struct ObjectWriter(String);

impl ObjectWriter {
    pub fn start() -> ObjectWriter {
        ObjectWriter(String::from("{"))
    }

    fn key(&mut self, k: &str) -> &mut String {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        // Writing into a String cannot fail.
        let _ = write_str(&mut self.0, k);
        self.0.push(':');
        &mut self.0
    }

    pub fn str(&mut self, k: &str, v: &str) {
        let _ = write_str(self.key(k), v);
    }

    pub fn opt_str(&mut self, k: &str, v: Option<&str>) {
        match v {
            Some(v) => self.str(k, v),
            None => self.key(k).push_str("null"),
        }
    }

    pub fn bool(&mut self, k: &str, v: bool) {
        self.key(k).push_str(if v { "true" } else { "false" });
    }

    pub fn num(&mut self, k: &str, v: Option<u64>) {
        let _ = write_json(self.key(k), &Json::from(v));
    }

    pub fn list(&mut self, k: &str, v: Option<&[String]>) {
        let out = self.key(k);
        let Some(items) = v else {
            return out.push_str("null");
        };
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write_str(out, item);
        }
        out.push(']');
    }

    /// A nested object, already written.
    pub fn raw(&mut self, k: &str, json: &str) {
        self.key(k).push_str(json);
    }

    pub fn end(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

/// Reads a stored record's fields with no early return per field (each
/// would drop every field read before it): a missing or mistyped required
/// field marks the whole record invalid, and `done` then gives `None`.
pub struct Fields<'a> {
    j: &'a Json,
    ok: bool,
}

impl<'a> Fields<'a> {
    pub fn new(j: &'a Json) -> Fields<'a> {
        Fields { j, ok: true }
    }

    /// `v`, or `or` with the record marked invalid.
    pub fn check<T>(&mut self, v: Option<T>, or: T) -> T {
        self.ok &= v.is_some();
        v.unwrap_or(or)
    }

    pub fn opt_str(&self, k: &str) -> Option<String> {
        self.j.str_field(k).map(String::from)
    }

    pub fn str(&mut self, k: &str) -> String {
        let v = self.opt_str(k);
        self.check(v, String::new())
    }

    pub fn bool(&mut self, k: &str) -> bool {
        let v = self.j.get(k).and_then(Json::as_bool);
        self.check(v, false)
    }

    pub fn opt_list(&self, k: &str) -> Option<Vec<String>> {
        self.j.string_array_field(k)
    }

    pub fn list(&mut self, k: &str) -> Vec<String> {
        let v = self.opt_list(k);
        self.check(v, Vec::new())
    }

    pub fn num(&self, k: &str) -> Option<u64> {
        self.j.get(k).and_then(Json::as_f64).map(|f| f as u64)
    }

    pub fn done<T>(self, v: T) -> Option<T> {
        self.ok.then_some(v)
    }
}

/// JSON string literal of `s`, for embedding untrusted text in messages
/// without letting it forge quotes or line breaks in logs.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = write_str(&mut out, s);
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_str(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            '\u{8}' => f.write_str("\\b")?,
            '\u{c}' => f.write_str("\\f")?,
            // U+2028/9 are line terminators to JS and many log viewers.
            '\u{0}'..='\u{1f}' | '\u{2028}' | '\u{2029}' => {
                f.write_str("\\u")?;
                // Four hex digits, high nibble first (a range, not an
                // array of shifts: an array iterator is linked per type).
                for i in (0..4).rev() {
                    f.write_char(HEX[(c as usize >> (4 * i)) & 0xf] as char)?;
                }
            }
            _ => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

fn write_json(f: &mut impl fmt::Write, v: &Json) -> fmt::Result {
    match v {
        Json::Null => f.write_str("null"),
        Json::Bool(b) => f.write_str(if *b { "true" } else { "false" }),
        // Integers print like JS does (no ".0"); below 2^63 the cast is exact.
        Json::Number(n) if n.fract() == 0.0 && n.abs() < 9_223_372_036_854_775_808.0 => {
            let i = *n as i64;
            if i < 0 {
                f.write_char('-')?;
            }
            write_digits(f, i.unsigned_abs())
        }
        // The library writes only integers (timestamps, counts). Anything
        // else is written as `null`, as JS does for non-finite numbers,
        // rather than pulling float formatting into the wasm.
        Json::Number(_) => f.write_str("null"),
        Json::String(s) => write_str(f, s),
        Json::Array(items) => {
            f.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write_json(f, item)?;
            }
            f.write_char(']')
        }
        Json::Object(members) => {
            f.write_char('{')?;
            for (i, (k, item)) in members.iter().enumerate() {
                if i > 0 {
                    f.write_char(',')?;
                }
                write_str(f, k)?;
                f.write_char(':')?;
                write_json(f, item)?;
            }
            f.write_char('}')
        }
    }
}

/// The decimal digits of `n`. By hand: `i64`'s Display links its own
/// formatting routine, and JSON never pads.
fn write_digits(f: &mut impl fmt::Write, n: u64) -> fmt::Result {
    if n >= 10 {
        write_digits(f, n / 10)?;
    }
    f.write_char(char::from(b'0' + (n % 10) as u8))
}

impl Json {
    /// The text `Display` gives, written straight into a String: the library
    /// itself serializes only into Strings, so the wasm build carries one
    /// (String) copy of the writer and no Formatter copy.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = write_json(&mut out, self);
        out
    }
}

impl fmt::Display for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_json(f, self)
    }
}

/// 10^n for n ≤ 22, exactly: every power of ten up to 1e22 is an f64.
fn pow10(n: i32) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p *= 10.0;
    }
    p
}

/// The value of a number that matched the JSON grammar. Correctly rounded
/// for integers below 2^64 and, by Clinger's fast path, for up to 15
/// significant digits with a power of ten within ±22: that covers every
/// number an OAuth document carries. Beyond that the result may be off by a
/// few ulps, which no field the library reads could notice.
fn decimal_to_f64(text: &[u8]) -> f64 {
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut exp10: i32 = 0;
    let mut fraction = false;
    let mut bytes = text.iter();
    for &b in bytes.by_ref() {
        match b {
            b'.' => fraction = true,
            b'0'..=b'9' => {
                // `mantissa * 10 + digit` fits in a u64 exactly when this
                // holds; a comparison, since `checked_mul` on u64 links a
                // 128-bit multiply into the wasm.
                let digit = u64::from(b - b'0');
                let limit = u64::MAX / 10;
                if mantissa < limit || (mantissa == limit && digit <= u64::MAX % 10) {
                    mantissa = mantissa * 10 + digit;
                    exp10 -= i32::from(fraction);
                } else {
                    // Past 19 digits: drop the digit, keeping the magnitude.
                    exp10 += i32::from(!fraction);
                }
            }
            _ => break, // 'e' or 'E'
        }
    }
    let mut exp: i32 = 0;
    let mut exp_negative = false;
    for &b in bytes {
        match b {
            b'-' => exp_negative = true,
            b'+' => {}
            // Saturates far beyond any finite or nonzero f64.
            _ => exp = (exp * 10 + i32::from(b - b'0')).min(100_000),
        }
    }
    exp10 += if exp_negative { -exp } else { exp };
    let mut v = mantissa as f64;
    if mantissa != 0 {
        if mantissa <= 1 << 53 && (-22..=22).contains(&exp10) {
            // Both operands exact: one rounding, the correct one.
            v = if exp10 < 0 {
                v / pow10(-exp10)
            } else {
                v * pow10(exp10)
            };
        } else {
            while exp10 > 0 && v.is_finite() {
                let step = exp10.min(22);
                v *= pow10(step);
                exp10 -= step;
            }
            while exp10 < 0 && v != 0.0 {
                let step = (-exp10).min(22);
                v /= pow10(step);
                exp10 += step;
            }
        }
    }
    if negative {
        -v
    } else {
        v
    }
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError {
            offset: self.pos,
            reason,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// The input from the cursor on. Checked slicing: the cursor is always on
    /// a char boundary, and an unchecked slice would link in the panic's
    /// formatting code.
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        match self.peek() {
            None => Err(self.err("unexpected end of input")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn literal(&mut self, word: &str, v: Json) -> Result<Json, JsonError> {
        if !self.rest().starts_with(word) {
            return Err(self.err("unexpected character"));
        }
        self.pos += word.len();
        Ok(v)
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat(b']') {
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            if self.eat(b']') {
                return Ok(Json::Array(items));
            }
            if !self.eat(b',') {
                return Err(self.err("expected ',' or ']'"));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nesting too deep"));
        }
        self.pos += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(Json::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.err("expected string key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.err("expected ':'"));
            }
            self.skip_ws();
            members.push((key, self.value(depth)?));
            self.skip_ws();
            if self.eat(b'}') {
                return Ok(Json::Object(members));
            }
            if !self.eat(b',') {
                return Err(self.err("expected ',' or '}'"));
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        self.eat(b'-');
        if self.eat(b'0') {
            if let Some(b'0'..=b'9') = self.peek() {
                return Err(self.err("leading zero"));
            }
        } else if self.digits() == 0 {
            return Err(self.err("invalid number"));
        }
        if self.eat(b'.') && self.digits() == 0 {
            return Err(self.err("invalid number"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return Err(self.err("invalid number"));
            }
        }
        match decimal_to_f64(self.s.as_bytes().get(start..self.pos).unwrap_or_default()) {
            n if n.is_finite() => Ok(Json::Number(n)),
            _ => Err(JsonError {
                offset: start,
                reason: "number out of range",
            }),
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        // Digit by digit: `from_str_radix` brings a general parser along.
        let mut n = 0;
        for i in 0..4 {
            let digit = self
                .s
                .as_bytes()
                .get(self.pos + i)
                .and_then(|&b| char::from(b).to_digit(16));
            n = n * 16 + digit.ok_or_else(|| self.err("invalid \\u escape"))?;
        }
        self.pos += 4;
        Ok(n)
    }

    /// Parses a string literal starting at its opening quote.
    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            // Copy unescaped runs whole; they end only at ASCII bytes, so the
            // slice boundaries always fall on char boundaries.
            let run = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(self.s.get(run..self.pos).unwrap_or_default());
            match self.peek() {
                None => return Err(self.err("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return Err(self.err("control character in string")),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let at = self.pos;
        self.pos += 1;
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.pos += 1;
                let hi = self.hex4()?;
                let lone = JsonError {
                    offset: at,
                    reason: "lone surrogate",
                };
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if !self.rest().starts_with("\\u") {
                            return Err(lone);
                        }
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(lone);
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(lone),
                    _ => hi,
                };
                out.push(char::from_u32(code).ok_or(lone)?);
                return Ok(());
            }
            _ => return Err(self.err("invalid escape")),
        };
        self.pos += 1;
        out.push(c);
        Ok(())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(s: &str) -> JsonError {
        Json::parse(s).expect_err(s)
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(Json::parse("null"), Ok(Json::Null));
        assert_eq!(Json::parse("true"), Ok(Json::Bool(true)));
        assert_eq!(Json::parse("false"), Ok(Json::Bool(false)));
        assert_eq!(Json::parse("-1.5e2"), Ok(Json::Number(-150.0)));
        assert_eq!(Json::parse("\"hi\""), Ok(Json::from("hi")));
    }

    #[test]
    fn parses_nested_objects() {
        let v = Json::parse(r#"{"a":{"b":[1,{"c":null}]}}"#).expect("valid");
        let inner = v.get("a").and_then(|a| a.get("b")).and_then(Json::as_array);
        assert_eq!(inner.map(<[Json]>::len), Some(2));
        assert_eq!(inner.and_then(|i| i[1].get("c")), Some(&Json::Null));
    }

    #[test]
    fn parses_empty_object_and_array() {
        assert_eq!(Json::parse("{}"), Ok(Json::Object(vec![])));
        assert_eq!(Json::parse("[ ]"), Ok(Json::Array(vec![])));
    }

    #[test]
    fn allows_surrounding_and_inner_whitespace() {
        let v = Json::parse(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ").expect("valid");
        assert_eq!(v.get("a").and_then(Json::as_array).map(<[Json]>::len), Some(2));
    }

    #[test]
    fn rejects_non_json_whitespace() {
        assert_eq!(err("\u{a0}1").reason, "unexpected character");
    }

    #[test]
    fn rejects_empty_input() {
        assert_eq!(
            err("  "),
            JsonError {
                offset: 2,
                reason: "unexpected end of input"
            }
        );
    }

    #[test]
    fn rejects_trailing_comma() {
        assert_eq!(err("[1,]").offset, 3);
        assert_eq!(err(r#"{"a":1,}"#).reason, "expected string key");
    }

    #[test]
    fn rejects_trailing_characters() {
        assert_eq!(
            err("1 2"),
            JsonError {
                offset: 2,
                reason: "trailing characters"
            }
        );
    }

    #[test]
    fn rejects_comments() {
        assert!(Json::parse("1 // c").is_err());
        assert!(Json::parse("/* c */ 1").is_err());
    }

    #[test]
    fn rejects_leading_zeros() {
        assert_eq!(
            err("01"),
            JsonError {
                offset: 1,
                reason: "leading zero"
            }
        );
        assert_eq!(err("-00").reason, "leading zero");
        assert_eq!(Json::parse("0.5"), Ok(Json::Number(0.5)));
    }

    #[test]
    fn rejects_malformed_numbers() {
        for s in [
            "-",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
            "-Infinity",
        ] {
            assert!(Json::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn rejects_numbers_overflowing_f64() {
        assert_eq!(
            err("[1e400]"),
            JsonError {
                offset: 1,
                reason: "number out of range"
            }
        );
    }

    #[test]
    fn parses_big_integers_approximately() {
        assert_eq!(
            Json::parse("12345678901234567890").ok().and_then(|v| v.as_f64()),
            Some(1.2345678901234567e19)
        );
    }

    #[test]
    fn reports_offset_of_unexpected_character() {
        assert_eq!(
            err(r#"{"a" 1}"#),
            JsonError {
                offset: 5,
                reason: "expected ':'"
            }
        );
        assert_eq!(
            err("[1 2]"),
            JsonError {
                offset: 3,
                reason: "expected ',' or ']'"
            }
        );
    }

    #[test]
    fn rejects_raw_control_characters_in_strings() {
        assert_eq!(
            err("\"a\nb\""),
            JsonError {
                offset: 2,
                reason: "control character in string"
            }
        );
    }

    #[test]
    fn rejects_unterminated_string() {
        assert_eq!(err("\"abc").reason, "unterminated string");
    }

    #[test]
    fn decodes_simple_escapes() {
        let v = Json::parse(r#""\"\\\/\b\f\n\r\t""#).expect("valid");
        assert_eq!(v.as_str(), Some("\"\\/\u{8}\u{c}\n\r\t"));
    }

    #[test]
    fn rejects_unknown_escape() {
        assert_eq!(err(r#""\x""#).reason, "invalid escape");
        assert_eq!(err(r#""\u12G4""#).reason, "invalid \\u escape");
        assert_eq!(err(r#""\u12"#).reason, "invalid \\u escape");
    }

    #[test]
    fn decodes_unicode_escapes_and_surrogate_pairs() {
        let v = Json::parse(r#""\u00e9\u2713\ud83d\ude00""#).expect("valid");
        assert_eq!(v.as_str(), Some("\u{e9}\u{2713}\u{1f600}"));
    }

    #[test]
    fn rejects_lone_surrogates() {
        assert_eq!(
            err(r#""a\ud83d""#),
            JsonError {
                offset: 2,
                reason: "lone surrogate"
            }
        );
        assert_eq!(err(r#""\ude00""#).reason, "lone surrogate");
        assert_eq!(err(r#""\ud83d\u0041""#).reason, "lone surrogate");
    }

    #[test]
    fn keeps_raw_non_ascii_text() {
        assert_eq!(
            Json::parse("\"h\u{e9}\u{1f600}\"").ok(),
            Some(Json::from("h\u{e9}\u{1f600}"))
        );
    }

    #[test]
    fn accepts_nesting_up_to_the_depth_limit() {
        let s = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(&s).is_ok());
    }

    #[test]
    fn rejects_nesting_beyond_the_depth_limit() {
        let s = format!("{}{}", "[{\"a\":".repeat(40), "}]".repeat(40));
        assert_eq!(err(&s).reason, "nesting too deep");
        assert_eq!(err(&"[".repeat(100_000)).reason, "nesting too deep");
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let v = Json::parse(r#"{"a":1,"b":2,"a":3}"#).expect("valid");
        assert_eq!(v.get("a"), Some(&Json::Number(3.0)));
    }

    #[test]
    fn accessors_reject_other_variants() {
        let v = Json::Number(1.0);
        assert_eq!(v.get("a"), None);
        assert_eq!(v.as_str(), None);
        assert_eq!(v.as_bool(), None);
        assert_eq!(v.as_array(), None);
        assert!(!v.is_object());
        assert_eq!(Json::Bool(true).as_f64(), None);
        assert_eq!(Json::Bool(true).as_bool(), Some(true));
    }

    #[test]
    fn str_field_reads_string_members_only() {
        let v = Json::parse(r#"{"a":"x","b":1}"#).expect("valid");
        assert_eq!(v.str_field("a"), Some("x"));
        assert_eq!(v.str_field("b"), None);
        assert_eq!(v.str_field("c"), None);
    }

    #[test]
    fn string_array_field_requires_all_strings() {
        let v = Json::parse(r#"{"ok":["a","b"],"mixed":["a",1],"empty":[],"s":"a"}"#).expect("valid");
        assert_eq!(v.string_array_field("ok"), Some(vec!["a".into(), "b".into()]));
        assert_eq!(v.string_array_field("mixed"), None);
        assert_eq!(v.string_array_field("empty"), Some(vec![]));
        assert_eq!(v.string_array_field("s"), None);
    }

    #[test]
    fn builds_objects_with_from_conversions() {
        let v = Json::object(vec![
            ("s", "x".into()),
            ("o", String::from("y").into()),
            ("b", true.into()),
            ("f", (-3.0).into()),
            ("u", 7u64.into()),
            ("a", vec!["p".to_string()].into()),
            ("none", Option::<&str>::None.into()),
            ("some", Some(2u64).into()),
        ]);
        assert_eq!(
            v.to_string(),
            r#"{"s":"x","o":"y","b":true,"f":-3,"u":7,"a":["p"],"none":null,"some":2}"#
        );
    }

    #[test]
    fn serializes_escapes() {
        let v = Json::from("\"\\\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{2028}\u{2029}/\u{e9}");
        assert_eq!(v.to_string(), r#""\"\\\n\r\t\b\f\u0001\u001f\u2028\u2029/é""#);
    }

    #[test]
    fn quote_escapes_log_injection() {
        assert_eq!(quote("a\"\nb"), r#""a\"\nb""#);
    }

    #[test]
    fn serializes_safe_integers_without_fraction() {
        assert_eq!(Json::Number(42.0).to_string(), "42");
        assert_eq!(Json::Number(-0.0).to_string(), "0");
        assert_eq!(
            Json::Number(9_007_199_254_740_992.0).to_string(),
            "9007199254740992"
        );
    }

    #[test]
    fn serializes_integers_beyond_2_53_exactly() {
        assert_eq!(Json::Number(2f64.powi(60)).to_string(), "1152921504606846976");
        assert_eq!(Json::Number(-2f64.powi(62)).to_string(), "-4611686018427387904");
    }

    #[test]
    fn serializes_non_integral_and_huge_numbers_as_null() {
        // The library writes only integers; these are never produced by it.
        assert_eq!(Json::Number(0.1).to_string(), "null");
        assert_eq!(Json::Number(-2.5e-8).to_string(), "null");
        assert_eq!(Json::Number(2f64.powi(63)).to_string(), "null");
        assert_eq!(Json::Number(1e300).to_string(), "null");
    }

    #[test]
    fn parses_decimals_and_exponents() {
        for (s, n) in [
            ("0", 0.0f64),
            ("-0", -0.0),
            ("0.1", 0.1),
            ("3600", 3600.0),
            ("1E3", 1000.0),
            ("1e+3", 1000.0),
            ("-25e-1", -2.5),
            ("0.000001", 1e-6),
            ("1700000000000", 1.7e12),
            ("18446744073709551615", 18_446_744_073_709_551_615.0),
            ("1e22", 1e22),
            ("-1.5e-22", -1.5e-22),
            ("0e999999999999", 0.0),
            ("1e-999999999999", 0.0),
        ] {
            let v = Json::parse(s).ok().and_then(|v| v.as_f64());
            assert_eq!(v.map(f64::to_bits), Some(n.to_bits()), "{s}");
        }
    }

    #[test]
    fn serializes_non_finite_numbers_as_null() {
        assert_eq!(Json::Number(f64::NAN).to_string(), "null");
        assert_eq!(Json::Number(f64::NEG_INFINITY).to_string(), "null");
    }

    fn arb_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            (-(1i64 << 62)..(1i64 << 62)).prop_map(|n| Json::Number(n as f64)),
            any::<i32>().prop_map(|n| Json::Number(f64::from(n))),
            any::<String>().prop_map(Json::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8).prop_map(Json::Object),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trips_generated_trees(v in arb_json()) {
            prop_assert_eq!(Json::parse(&v.to_string()), Ok(v));
        }

        #[test]
        fn parses_integers_below_2_64_correctly_rounded(n in any::<u64>(), neg in any::<bool>()) {
            let s = if neg { format!("-{n}") } else { n.to_string() };
            prop_assert_eq!(Json::parse(&s).ok().and_then(|v| v.as_f64()), s.parse::<f64>().ok());
        }

        #[test]
        fn parses_short_decimals_correctly_rounded(
            m in 0u64..1_000_000_000_000_000,
            point in 0usize..16,
            scale in -22i32..=22,
        ) {
            // Up to 15 significant digits, a decimal point anywhere, and an
            // exponent such that the value is m * 10^scale.
            let digits = m.to_string();
            let point = point.min(digits.len() - 1);
            let e = scale + (digits.len() - 1 - point) as i32;
            let s = format!("{}.{}e{e}", &digits[..=point], &digits[point + 1..]).replace(".e", "e");
            prop_assert_eq!(Json::parse(&s).ok().and_then(|v| v.as_f64()), s.parse::<f64>().ok(), "{}", s);
        }

        #[test]
        fn parses_any_normal_number_within_a_few_ulps(x in proptest::num::f64::NORMAL) {
            prop_assume!(x.abs() >= 1e-300);
            for s in [format!("{x:e}"), format!("{x:?}")] {
                let v = Json::parse(&s).ok().and_then(|v| v.as_f64());
                let v = v.ok_or_else(|| TestCaseError::fail(s.clone()))?;
                prop_assert!(((v - x) / x).abs() < 1e-14, "{} -> {}", s, v);
            }
        }

        #[test]
        fn quote_round_trips(s in any::<String>()) {
            prop_assert_eq!(Json::parse(&quote(&s)), Ok(Json::String(s)));
        }

        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Json::parse(&s);
        }

        #[test]
        fn parse_never_panics_on_json_like_input(s in r#"[\[\]{}":,0-9eE.+\-tfnul\\ ]{0,40}"#) {
            let _ = Json::parse(&s);
        }
    }
}
