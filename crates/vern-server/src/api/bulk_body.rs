//! Decoding the body of `POST /v1/decisions/bulk`: NDJSON or a JSON array of up to 100,000
//! requests, borrowed from the body and parsed on every core when it is large.

use super::bulk_fast::fast_item;
use crate::error::{ApiError, FieldError};
use crate::json::data_error;
use crate::vault::{BulkItem, VaultError};

/// Arrays smaller than this are parsed in one pass: cutting them saves less than a thread
/// costs.
const SPLIT_MIN_BYTES: usize = 256 * 1024;

/// At most this many pieces of one array are parsed at once.
const MAX_PIECES: usize = 8;
/// Bytes per request assumed when sizing item vectors (a request of the plain shape is about
/// 100–140 bytes; guessing low costs only unused capacity).
const BYTES_PER_ITEM_GUESS: usize = 96;

/// Parses a bulk body as the endpoint does (NDJSON or a JSON array) and returns how many
/// requests it holds. For fuzzing: the decoding is the whole untrusted surface before the
/// vault.
pub fn parse_bulk_body(body: &[u8], ndjson: bool) -> Result<usize, ApiError> {
    if ndjson {
        parse_ndjson(body).map(|v| v.len())
    } else {
        parse_array(body).map(|v| v.len())
    }
}

/// One request per non-empty line; a bad line is named by its index (among the non-empty
/// lines). A large body is cut after line ends and the pieces are checked as UTF-8 and parsed
/// on every core: a cut after a `\n` splits no character and no line, so the pieces' lines are
/// exactly the body's, and the body is valid UTF-8 exactly when every piece is.
pub(super) fn parse_ndjson(body: &[u8]) -> Result<Vec<BulkItem<'_>>, ApiError> {
    parse_ndjson_split(body, SPLIT_MIN_BYTES)
}

/// [`parse_ndjson`], splitting bodies of `min_bytes` or more (tests split small ones).
fn parse_ndjson_split(body: &[u8], min_bytes: usize) -> Result<Vec<BulkItem<'_>>, ApiError> {
    let pieces = ndjson_pieces(body, min_bytes);
    let parsed: Vec<NdjsonPiece<'_>> = std::thread::scope(|scope| {
        let mut rest = pieces.iter().copied();
        let first = rest.next();
        let handles: Vec<_> = rest
            .map(|piece| scope.spawn(move || parse_ndjson_piece(piece, piece.len())))
            .collect();
        let mut out = Vec::with_capacity(pieces.len());
        // The first piece's items are sized for the whole body, so the others are appended
        // to them instead of every item being copied into a new vector.
        out.extend(first.map(|piece| parse_ndjson_piece(piece, body.len())));
        for h in handles {
            out.push(h.join().unwrap_or(NdjsonPiece::Failed));
        }
        out
    });
    if parsed.iter().any(|p| matches!(p, NdjsonPiece::Failed)) {
        return Err(ApiError::from(VaultError::Internal(
            "a bulk parsing worker failed".into(),
        )));
    }
    // Invalid UTF-8 anywhere is reported before any line, as for a body checked whole.
    if parsed.iter().any(|p| matches!(p, NdjsonPiece::NotUtf8)) {
        return Err(ApiError::malformed("the request body is not valid UTF-8"));
    }
    let mut items = Vec::new();
    for piece in parsed {
        match piece {
            NdjsonPiece::Items(v) if items.is_empty() => items = v,
            NdjsonPiece::Items(v) => items.extend(v),
            // The pieces before this one parsed whole: their items are their non-empty lines.
            NdjsonPiece::BadLine(at) => {
                return Err(ApiError::validation(vec![FieldError::new(
                    format!("[{}]", items.len() + at),
                    "invalid_line",
                    "this line is not a valid decision request",
                )]));
            }
            NdjsonPiece::NotUtf8 | NdjsonPiece::Failed => {}
        }
    }
    Ok(items)
}

/// What one piece of an NDJSON body gave.
enum NdjsonPiece<'a> {
    Items(Vec<BulkItem<'a>>),
    /// The index, among the piece's non-empty lines, of the first that is not a request.
    BadLine(usize),
    NotUtf8,
    /// The worker panicked (it should not: nothing in it indexes or unwraps).
    Failed,
}

/// The body cut after a line end near each `1/n` of its length (one piece if it is shorter
/// than `min_bytes`).
fn ndjson_pieces(body: &[u8], min_bytes: usize) -> Vec<&[u8]> {
    let n = if body.len() < min_bytes {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, usize::from)
            .clamp(1, MAX_PIECES)
    };
    let mut pieces = Vec::with_capacity(n);
    let mut start = 0;
    for k in 1..n {
        let target = (body.len() / n * k).max(start);
        let Some(cut) = body
            .get(target..)
            .and_then(|rest| rest.iter().position(|b| *b == b'\n'))
            .map(|at| target + at + 1)
        else {
            break;
        };
        pieces.extend(body.get(start..cut));
        start = cut;
    }
    pieces.extend(body.get(start..));
    pieces
}

/// The items of one piece, in a vector sized for `span` bytes of requests.
fn parse_ndjson_piece(piece: &[u8], span: usize) -> NdjsonPiece<'_> {
    let Ok(text) = std::str::from_utf8(piece) else {
        return NdjsonPiece::NotUtf8;
    };
    let mut items = Vec::with_capacity(span / BYTES_PER_ITEM_GUESS);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match parse_line(line) {
            Some(item) => items.push(item),
            None => return NdjsonPiece::BadLine(items.len()),
        }
    }
    NdjsonPiece::Items(items)
}

/// One NDJSON line: a JSON object and nothing after it.
fn parse_line(line: &str) -> Option<BulkItem<'_>> {
    if line.trim_start().as_bytes().first() != Some(&b'{') {
        return None;
    }
    // The fast path, if the object is the whole line (whitespace aside), as `from_str` wants.
    if let Some((item, end)) = fast_item(line.as_bytes(), 0)
        && skip_ws(line.as_bytes(), end) == line.len()
    {
        return Some(item);
    }
    serde_json::from_str(line).ok()
}

/// A JSON array of requests. (The shared body parser takes objects only, by design.) A large
/// body is parsed on every core ([`parse_array_split`]); otherwise, or if that fails, in one
/// pass without bookkeeping; only a body that fails that too is parsed again for the error's
/// path.
pub(super) fn parse_array(body: &[u8]) -> Result<Vec<BulkItem<'_>>, ApiError> {
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'[') {
        return Err(ApiError::validation(vec![FieldError::new(
            "body",
            "invalid_type",
            "expected a JSON array of decision requests",
        )]));
    }
    if body.len() >= SPLIT_MIN_BYTES
        && let Some(items) = parse_array_split(body)
    {
        return Ok(items);
    }
    if let Ok(items) = serde_json::from_slice::<Vec<BulkItem<'_>>>(body) {
        return Ok(items);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let reqs: Vec<BulkItem<'_>> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        ApiError::validation(vec![data_error(&field, &e.into_inner().to_string())])
    })?;
    de.end()
        .map_err(|_| ApiError::malformed("the request body has data after the JSON value"))?;
    Ok(reqs)
}

/// An array's elements parsed on every core (docs/decisions/0025). The array is cut into
/// pieces at guessed element boundaries: a comma between a `}` and a `{`, which may also sit
/// inside a string. Each piece must parse, from its first byte to its last, as complete
/// elements separated by commas; a piece before a wrong cut ends inside a value and fails. So
/// when every piece parses, the cuts were element boundaries and the elements are exactly
/// those of a one-pass parse; otherwise (a wrong guess or a malformed body) this answers
/// `None` and the one-pass parser decides, with its own error.
fn parse_array_split(body: &[u8]) -> Option<Vec<BulkItem<'_>>> {
    let open = body.iter().position(|b| !is_ws(*b))?;
    let close = body.iter().rposition(|b| !is_ws(*b))?;
    if body.get(open) != Some(&b'[') || body.get(close) != Some(&b']') || close <= open {
        return None;
    }
    let inner = body.get(open + 1..close)?;
    let pieces = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_PIECES);
    let mut bounds = Vec::with_capacity(pieces);
    let mut start = 0;
    for k in 1..pieces {
        let target = (inner.len() / pieces * k).max(start);
        if let Some(cut) = next_cut(inner, target) {
            bounds.push((start, cut));
            start = cut + 1;
        }
    }
    bounds.push((start, inner.len()));
    let parsed: Vec<Option<Vec<BulkItem<'_>>>> = std::thread::scope(|scope| {
        let mut rest = bounds.iter().map(|&(a, b)| inner.get(a..b));
        let first = rest.next().flatten();
        let handles: Vec<_> = rest
            .map(|piece| scope.spawn(move || piece.and_then(|p| parse_elements(p, p.len()))))
            .collect();
        let mut out = Vec::with_capacity(bounds.len());
        // Sized for the whole array: the other pieces are appended (see `parse_ndjson_split`).
        out.push(first.and_then(|p| parse_elements(p, inner.len())));
        for h in handles {
            out.push(h.join().ok().flatten());
        }
        out
    });
    let mut parsed = parsed.into_iter();
    let mut items = parsed.next().flatten()?;
    for piece in parsed {
        items.extend(piece?);
    }
    Some(items)
}

/// JSON's whitespace (RFC 8259 §2).
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while s.get(i).is_some_and(|b| is_ws(*b)) {
        i += 1;
    }
    i
}

/// The first comma at or after `from` with `}` before it and `{` after it (whitespace
/// aside): a likely boundary between two elements.
fn next_cut(s: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        i += s.get(i..)?.iter().position(|b| *b == b',')?;
        let before = s.get(..i)?.iter().rposition(|b| !is_ws(*b));
        let after = skip_ws(s, i + 1);
        if before.and_then(|j| s.get(j)) == Some(&b'}') && s.get(after) == Some(&b'{') {
            return Some(i);
        }
        i += 1;
    }
}

/// `element (, element)*`, whitespace allowed around each, and nothing else.
/// The elements of `s`, in a vector sized for `span` bytes of requests.
fn parse_elements(s: &[u8], span: usize) -> Option<Vec<BulkItem<'_>>> {
    let mut items = Vec::with_capacity(span / BYTES_PER_ITEM_GUESS);
    let mut i = skip_ws(s, 0);
    loop {
        i = match fast_item(s, i) {
            Some((item, end)) => {
                items.push(item);
                skip_ws(s, end)
            }
            None => {
                let mut stream =
                    serde_json::Deserializer::from_slice(s.get(i..)?).into_iter::<BulkItem<'_>>();
                items.push(stream.next()?.ok()?);
                skip_ws(s, i + stream.byte_offset())
            }
        };
        match s.get(i) {
            None => return Some(items),
            Some(b',') => i = skip_ws(s, i + 1),
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize, purpose: &str) -> String {
        format!(
            "{{\"identifier\":{{\"kind\":\"email\",\"value\":\"p{n}@example.com\"}},\"purpose\":{purpose}}}"
        )
    }

    fn array(items: &[String], sep: &str) -> String {
        format!("[{}]", items.join(sep))
    }

    #[test]
    fn a_split_parse_equals_the_one_pass_parse() {
        let items: Vec<String> = (0..5000).map(|n| item(n, "\"newsletter\"")).collect();
        for sep in [",", " , ", ",\n", "\n,\t"] {
            let body = array(&items, sep);
            let split = parse_array_split(body.as_bytes());
            let one: Vec<BulkItem<'_>> = serde_json::from_slice(body.as_bytes()).unwrap();
            assert_eq!(split.as_ref(), Some(&one), "separator {sep:?}");
            assert_eq!(parse_array(body.as_bytes()).unwrap(), one);
        }
    }

    #[test]
    fn a_cut_inside_a_string_is_never_taken_for_a_boundary() {
        // Every purpose holds `},{`, so most guessed cuts are inside strings.
        let tricky = "\"x},{\\\"y\\\"},{\"";
        let items: Vec<String> = (0..3000).map(|n| item(n, tricky)).collect();
        let body = array(&items, ",");
        let one: Vec<BulkItem<'_>> = serde_json::from_slice(body.as_bytes()).unwrap();
        if let Some(split) = parse_array_split(body.as_bytes()) {
            assert_eq!(split, one);
        }
        // Every guessed cut inside a string leaves a piece before it that does not parse.
        let inner = &body.as_bytes()[1..body.len() - 1];
        let mut from = 0;
        let mut inside = 0;
        while let Some(cut) = next_cut(inner, from) {
            let in_string = inner[..cut].iter().filter(|b| **b == b'"').count() % 2 == 1;
            if in_string {
                inside += 1;
                assert!(parse_elements(&inner[..cut], cut).is_none());
            } else {
                assert_eq!(
                    parse_elements(&inner[..cut], cut).map(|v| v.len()),
                    Some(inner[..cut].iter().filter(|b| **b == b'@').count())
                );
            }
            from = cut + 1;
            if from > 20_000 {
                break;
            }
        }
        assert!(inside > 10);
        assert_eq!(parse_array(body.as_bytes()).unwrap(), one);
    }

    #[test]
    fn malformed_large_arrays_are_refused_as_in_one_pass() {
        let items: Vec<String> = (0..5000).map(|n| item(n, "\"newsletter\"")).collect();
        let good = array(&items, ",");
        let bad = [
            good.replacen("},{", "},,{", 1),
            good.replacen("},{", "}{", 1),
            format!("{},]", &good[..good.len() - 1]),
            format!("{} x", good),
            good.replacen("\"purpose\"", "\"purpose\":1,\"unknown\"", 1),
            good.replacen("[", "[{\"purpose\":\"a\"},", 1)
                .replacen("},{", "}]{", 1),
        ];
        for body in &bad {
            assert!(parse_array_split(body.as_bytes()).is_none());
            assert!(parse_array(body.as_bytes()).is_err());
        }
        let mut not_utf8 = good.clone().into_bytes();
        let at = not_utf8.len() / 2 + 10;
        let at = at + not_utf8[at..].iter().position(|b| *b == b'@').unwrap();
        not_utf8[at] = 0xff;
        assert!(parse_array_split(&not_utf8).is_none());
        assert!(parse_array(&not_utf8).is_err());
    }

    /// The NDJSON parse as it was before the body was split: the whole body checked as UTF-8,
    /// then its non-empty lines in one pass. The split parse must answer the same.
    fn ndjson_whole(body: &[u8]) -> Result<Vec<BulkItem<'_>>, String> {
        let text = std::str::from_utf8(body).map_err(|_| "utf8".to_owned())?;
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
            .map(|(i, line)| parse_line(line).ok_or(format!("[{i}]")))
            .collect()
    }

    fn ndjson_split(body: &[u8], min_bytes: usize) -> Result<Vec<BulkItem<'_>>, String> {
        parse_ndjson_split(body, min_bytes).map_err(|e| {
            let text = format!("{e:?}");
            if text.contains("not valid UTF-8") {
                "utf8".to_owned()
            } else {
                text.split("field: \"")
                    .nth(1)
                    .and_then(|rest| rest.split('"').next())
                    .unwrap_or("?")
                    .to_owned()
            }
        })
    }

    #[test]
    fn a_split_ndjson_parse_equals_the_whole_body_parse() {
        let items: Vec<String> = (0..6000).map(|n| item(n, "\"newsletter\"")).collect();
        for sep in ["\n", "\r\n", "\n\n", "\n \t\n"] {
            let body = items.join(sep);
            assert!(body.len() >= SPLIT_MIN_BYTES);
            assert!(ndjson_pieces(body.as_bytes(), SPLIT_MIN_BYTES).len() > 1 || num_cores() == 1);
            let whole = ndjson_whole(body.as_bytes());
            assert_eq!(whole.as_ref().map(Vec::len), Ok(6000));
            assert_eq!(
                ndjson_split(body.as_bytes(), SPLIT_MIN_BYTES),
                whole,
                "separator {sep:?}"
            );
        }
        // A bad line anywhere, and invalid UTF-8 after a bad line: the same answer as before.
        let good = items.join("\n");
        for at in [0, 1, 2999, 3000, 3001, 5999] {
            let mut lines = items.clone();
            lines[at] = "{\"purpose\":1}".to_owned();
            let body = lines.join("\n");
            assert_eq!(
                ndjson_split(body.as_bytes(), SPLIT_MIN_BYTES),
                Err(format!("[{at}]"))
            );
            assert_eq!(ndjson_whole(body.as_bytes()), Err(format!("[{at}]")));
            let mut bytes = body.into_bytes();
            let last = bytes.len() - 20;
            bytes[last] = 0xff;
            assert_eq!(
                ndjson_split(&bytes, SPLIT_MIN_BYTES),
                Err("utf8".to_owned())
            );
        }
        let mut bytes = good.into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = 0xc3;
        assert_eq!(ndjson_split(&bytes, SPLIT_MIN_BYTES), ndjson_whole(&bytes));
    }

    fn num_cores() -> usize {
        std::thread::available_parallelism().map_or(1, usize::from)
    }

    proptest::proptest! {
        /// Whatever the body, a split NDJSON parse answers as the whole-body parse did (split
        /// from 0 bytes, so every generated body is cut).
        #[test]
        fn a_split_ndjson_parse_never_differs_from_the_whole_body_parse(
            purposes in proptest::collection::vec("[a-z{}\" \\\r]{0,12}", 1..60),
            seps in proptest::collection::vec("(\n|\r\n|\n[ \t]*\n)", 1..4),
            mutations in proptest::collection::vec((0usize..10_000, 0usize..6), 0..3),
        ) {
            let lines: Vec<String> = purposes
                .iter()
                .enumerate()
                .map(|(n, p)| item(n, &serde_json::to_string(p).unwrap()))
                .collect();
            let mut body = Vec::new();
            for (n, line) in lines.iter().enumerate() {
                body.extend_from_slice(line.as_bytes());
                body.extend_from_slice(seps[n % seps.len()].as_bytes());
            }
            for (at, with) in mutations {
                let at = at % body.len();
                body[at] = [b'\n', b'{', b'}', 0xff, b'"', b' '][with];
            }
            proptest::prop_assert_eq!(ndjson_split(&body, 0), ndjson_whole(&body));
        }
    }

    proptest::proptest! {
        /// Whatever the body, a split parse that succeeds gives exactly what one pass of
        /// `serde_json` gives: cuts in strings, stray brackets and broken separators all make
        /// it step aside.
        #[test]
        fn a_split_parse_never_differs_from_one_pass(
            purposes in proptest::collection::vec("[a-z},{\\[\\] \"\\\\]{0,12}", 1..40),
            mutations in proptest::collection::vec((0usize..4096, 0usize..9), 0..3),
        ) {
            let items: Vec<String> = purposes
                .iter()
                .enumerate()
                .map(|(n, p)| item(n, &serde_json::to_string(p).unwrap()))
                .collect();
            let mut body = array(&items, ",").into_bytes();
            for (at, with) in mutations {
                let at = at % body.len();
                body[at] = b",{}[]\" \\x"[with];
            }
            let one: Option<Vec<BulkItem<'_>>> = serde_json::from_slice(&body).ok();
            if let Some(split) = parse_array_split(&body) {
                proptest::prop_assert_eq!(Some(split), one);
            }
        }
    }
}
