//! The daemon.json editor behind `nvctk setup docker`.
//!
//! A pure function of bytes: it takes the current file and a wanted change and
//! returns either the new file (plus human-readable actions) or an error that
//! names the line and column of the problem. It never re-serializes the file:
//! a small span-aware scanner validates strict JSON (what dockerd accepts) and
//! records where every value sits, and the edit is a splice of those spans, so
//! every other key keeps its exact text, order and formatting.
//!
//! Inserted text copies the file's own style: indentation unit, the spelling of
//! `:` between key and value, line endings, one-line vs multi-line objects. A
//! The presence or absence of a final newline is kept because nothing outside
//! the top-level object is ever rewritten. A UTF-8 BOM is refused: dockerd
//! refuses it too (`invalid character 'ï' looking for beginning of value`).

use std::fmt;

/// The runtime name `nvidia-ctk runtime configure` registers.
pub const DEFAULT_RUNTIME_NAME: &str = "nvidia";
/// The runtime path `nvidia-ctk runtime configure --runtime=docker` writes
/// (Docker resolves the bare name through PATH).
pub const DEFAULT_RUNTIME_PATH: &str = "nvidia-container-runtime";

const BOM: &[u8] = b"\xEF\xBB\xBF";
const DEFAULT_UNIT: &str = "    ";
const DEFAULT_COLON: &str = ": ";

/// What `nvctk setup docker` wants daemon.json to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Key under `runtimes`, normally `nvidia`.
    pub runtime_name: String,
    /// Value of `runtimes.<name>.path`: the bare `nvidia-container-runtime` or an absolute path.
    pub runtime_path: String,
    /// Also set `"default-runtime"` to `runtime_name` (only on explicit request).
    pub set_default: bool,
    /// Also ensure `"features": {"cdi": true}`.
    pub cdi: bool,
}

impl Default for Want {
    fn default() -> Self {
        Want {
            runtime_name: DEFAULT_RUNTIME_NAME.to_string(),
            runtime_path: DEFAULT_RUNTIME_PATH.to_string(),
            set_default: false,
            cdi: false,
        }
    }
}

/// The change to plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Register the runtime (and optionally default-runtime / CDI).
    Add(Want),
    /// Undo without a backup: remove `runtimes.<runtime_name>` (and `runtimes`
    /// itself when nothing else is left in it); remove `default-runtime` only
    /// when `reset_default` and it names this runtime. `features` is left alone
    /// because nvctk cannot tell whether it added `cdi`.
    Remove {
        runtime_name: String,
        reset_default: bool,
    },
}

/// The planned result: the whole new file and what changed, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Exact bytes to write (equal to the input when `changed` is false).
    pub new_text: Vec<u8>,
    pub changed: bool,
    /// One line per decision, e.g. `add runtime "nvidia" (path nvidia-container-runtime)`.
    pub actions: Vec<String>,
}

/// Why the file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditErrorKind {
    /// The bytes are not UTF-8.
    InvalidUtf8,
    /// Not valid JSON (missing comma, bad string, bad number, ...).
    Syntax,
    /// `//` or `/* */` comment: valid in some editors, never in dockerd.
    Comment,
    /// A `,` right before `}` or `]`.
    TrailingComma,
    /// Something after the top-level object.
    TrailingContent,
    /// The top-level value is not an object.
    NotAnObject,
    /// A key nvctk edits appears twice.
    DuplicateKey,
    /// A key nvctk edits differs from the real one only in letter case (dockerd
    /// matches its settings case-insensitively, so nvctk will not guess).
    KeyCase,
    /// `runtimes`, the runtime entry, its `path`, or `features` has the wrong type.
    WrongType,
    /// The file starts with a UTF-8 byte-order mark.
    Bom,
    /// A bug in nvctk: the planned edits overlap.
    Internal,
}

/// A refusal with a 1-based line and column (in characters, not counting a
/// BOM) and a plain-words message saying what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub kind: EditErrorKind,
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for EditError {}

/// Checks that `text` is a daemon.json dockerd would read (empty counts as
/// valid: dockerd treats a missing file as `{}`), without planning any change.
pub fn validate(text: &[u8]) -> Result<(), EditError> {
    refuse_bom(text)?;
    let body = strip_bom(text);
    let s = utf8(body)?;
    if s.trim_matches(is_json_ws).is_empty() {
        return Ok(());
    }
    parse(s).map(|_| ()).map_err(|f| f.into_error(s))
}

/// True when two runtime paths name the same binary: equal, or one is a bare
/// name and the other that name in a directory of dockerd's usual PATH (Docker
/// finds a bare name through PATH, so `nvidia-container-runtime` and
/// `/usr/bin/nvidia-container-runtime` are one runtime; `/opt/x/...` is not).
pub fn runtime_paths_match(a: &str, b: &str) -> bool {
    const PATH_DIRS: [&str; 6] = [
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/sbin",
        "/usr/bin",
        "/sbin",
        "/bin",
    ];
    fn bare_matches(bare: &str, abs: &str) -> bool {
        !bare.is_empty()
            && !bare.contains('/')
            && abs
                .strip_suffix(bare)
                .and_then(|dir| dir.strip_suffix('/'))
                .is_some_and(|dir| PATH_DIRS.contains(&dir))
    }
    a == b || bare_matches(a, b) || bare_matches(b, a)
}

/// Plans `op` against the current file contents (empty for an absent file).
pub fn plan(original: &[u8], op: &Op) -> Result<Plan, EditError> {
    refuse_bom(original)?;
    let body = strip_bom(original);
    let s = utf8(body)?;
    let mut actions = Vec::new();

    let (text, edits) = if s.trim_matches(is_json_ws).is_empty() {
        match op {
            Op::Remove { runtime_name, .. } => {
                actions.push(format!(
                    "daemon.json is empty: no runtime {} to remove",
                    quote(runtime_name)
                ));
                return Ok(unchanged(original, actions));
            }
            Op::Add(want) => {
                // Plan against an empty object, so a fresh file goes through
                // the same code (and gets the same actions) as an edited one.
                let eol = if s.contains("\r\n") { "\r\n" } else { "\n" };
                let seed = format!("{{}}{eol}");
                actions.push("start a new daemon.json".to_string());
                let doc = parse(&seed).map_err(|f| f.into_error(&seed))?;
                let edits = plan_add(&doc, want, &mut actions).map_err(|f| f.into_error(&seed))?;
                (seed, edits)
            }
        }
    } else {
        let doc = parse(s).map_err(|f| f.into_error(s))?;
        let edits = match op {
            Op::Add(want) => plan_add(&doc, want, &mut actions),
            Op::Remove {
                runtime_name,
                reset_default,
            } => plan_remove(&doc, runtime_name, *reset_default, &mut actions),
        }
        .map_err(|f| f.into_error(s))?;
        if edits.is_empty() {
            return Ok(unchanged(original, actions));
        }
        (s.to_string(), edits)
    };

    let edited = apply(&text, edits).map_err(|f| f.into_error(&text))?;
    let mut new_text = Vec::with_capacity(edited.len() + BOM.len());
    if original.starts_with(BOM) {
        new_text.extend_from_slice(BOM);
    }
    new_text.extend_from_slice(edited.as_bytes());
    Ok(Plan {
        changed: new_text != original,
        new_text,
        actions,
    })
}

fn unchanged(original: &[u8], actions: Vec<String>) -> Plan {
    Plan {
        new_text: original.to_vec(),
        changed: false,
        actions,
    }
}

// ---------------------------------------------------------------------------
// Errors inside the scanner carry a byte offset; line and column are computed
// once, at the end, from the text.

struct Fail {
    pos: usize,
    kind: EditErrorKind,
    message: String,
}

impl Fail {
    fn new(pos: usize, kind: EditErrorKind, message: impl Into<String>) -> Fail {
        Fail {
            pos,
            kind,
            message: message.into(),
        }
    }

    fn into_error(self, text: &str) -> EditError {
        let (line, column) = line_col(text, self.pos);
        EditError {
            line,
            column,
            message: self.message,
            kind: self.kind,
        }
    }
}

fn refuse_bom(b: &[u8]) -> Result<(), EditError> {
    if b.starts_with(BOM) {
        return Err(EditError {
            line: 1,
            column: 1,
            message: "the file starts with a UTF-8 byte-order mark (BOM), which dockerd refuses; save it without the BOM (e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' FILE)".into(),
            kind: EditErrorKind::Bom,
        });
    }
    Ok(())
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(BOM).unwrap_or(b)
}

fn utf8(body: &[u8]) -> Result<&str, EditError> {
    std::str::from_utf8(body).map_err(|e| {
        let good = e.valid_up_to();
        let prefix = body.get(..good).unwrap_or_default();
        // The prefix is valid UTF-8 by construction; fall back to "" anyway.
        let text = std::str::from_utf8(prefix).unwrap_or_default();
        let (line, column) = line_col(text, good);
        let byte = body.get(good).copied().unwrap_or(0);
        EditError {
            line,
            column,
            message: format!(
                "expected UTF-8 text, found the byte 0x{byte:02X}; dockerd reads daemon.json as UTF-8 JSON"
            ),
            kind: EditErrorKind::InvalidUtf8,
        }
    })
}

/// 1-based line and column (counted in characters) of byte offset `pos`.
fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = floor_boundary(text, pos.min(text.len()));
    let before = text.get(..pos).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

fn floor_boundary(text: &str, mut pos: usize) -> usize {
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

fn is_json_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// Words for "what was found" at `pos`, used in every syntax message.
fn found_at(text: &str, pos: usize) -> String {
    let Some(c) = text.get(pos..).and_then(|t| t.chars().next()) else {
        return "the end of the file".to_string();
    };
    match c {
        '\u{201C}' | '\u{201D}' | '\u{2018}' | '\u{2019}' => format!(
            "`{c}` (U+{:04X}, a typographic quote; JSON needs the straight quote `\"`)",
            c as u32
        ),
        '\'' => "`'` (JSON strings need double quotes `\"`)".to_string(),
        '`' => "a backtick (U+0060)".to_string(),
        c if c.is_ascii_graphic() => format!("`{c}`"),
        c if c.is_control() || c.is_whitespace() || c == '\u{FEFF}' => {
            format!("the invisible character U+{:04X}", c as u32)
        }
        c => format!("`{c}` (U+{:04X})", c as u32),
    }
}

// ---------------------------------------------------------------------------
// The scanner: strict JSON (RFC 8259) into a flat arena of spans. It is
// iterative with an explicit stack and the arena is flat, so neither parsing
// nor dropping deeply nested input can overflow the call stack.

#[derive(Debug)]
struct Node {
    start: usize,
    end: usize,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Object(Vec<Member>),
    Array,
    Str(String),
    Number,
    Bool(bool),
    Null,
}

#[derive(Debug)]
struct Member {
    key: String,
    key_start: usize,
    value: usize,
}

struct Doc<'a> {
    text: &'a str,
    nodes: Vec<Node>,
    root: usize,
}

enum Frame {
    Object {
        members: Vec<Member>,
        open: usize,
        key: String,
        key_start: usize,
    },
    Array {
        open: usize,
    },
}

struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    nodes: Vec<Node>,
}

fn parse(text: &str) -> Result<Doc<'_>, Fail> {
    let mut sc = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        nodes: Vec::new(),
    };
    sc.skip_ws()?;
    let start = sc.pos;
    let what = match sc.peek() {
        Some(b'{') => None,
        Some(b'[') => Some("an array"),
        Some(b'"') => Some("a string"),
        Some(b'-' | b'0'..=b'9') => Some("a number"),
        Some(b't' | b'f') if sc.rest().starts_with(b"true") || sc.rest().starts_with(b"false") => {
            Some("a boolean")
        }
        Some(b'n') if sc.rest().starts_with(b"null") => Some("null"),
        _ => {
            return Err(Fail::new(
                start,
                EditErrorKind::Syntax,
                format!(
                    "expected `{{` to open the daemon.json object, found {}",
                    found_at(text, start)
                ),
            ));
        }
    };
    if let Some(what) = what {
        return Err(Fail::new(
            start,
            EditErrorKind::NotAnObject,
            format!(
                "expected a JSON object `{{ ... }}` at the top level of daemon.json, found {what}"
            ),
        ));
    }
    let root = sc.parse_value_tree()?;
    sc.skip_ws()?;
    if sc.pos < sc.bytes.len() {
        let root_end = sc.nodes.get(root).map_or(0, |n| n.end);
        let (end_line, _) = line_col(text, root_end.saturating_sub(1));
        return Err(Fail::new(
            sc.pos,
            EditErrorKind::TrailingContent,
            format!(
                "expected the end of the file after the top-level object (closed on line {end_line}), found {}; daemon.json must hold exactly one JSON object",
                found_at(text, sc.pos)
            ),
        ));
    }
    Ok(Doc {
        text,
        nodes: sc.nodes,
        root,
    })
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn fail(&self, pos: usize, kind: EditErrorKind, message: String) -> Fail {
        Fail::new(pos, kind, message)
    }

    fn found(&self) -> String {
        found_at(self.text, self.pos)
    }

    /// Skips JSON whitespace; comments are the one thing people put here that
    /// dockerd rejects, so they get their own message.
    fn skip_ws(&mut self) -> Result<(), Fail> {
        while let Some(b) = self.peek() {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                b'/' => {
                    let style = match self.bytes.get(self.pos + 1) {
                        Some(b'/') => "`//`",
                        Some(b'*') => "`/* */`",
                        _ => return Ok(()),
                    };
                    return Err(self.fail(
                        self.pos,
                        EditErrorKind::Comment,
                        format!(
                            "expected JSON, found a {style} comment: dockerd reads daemon.json as strict JSON, which has no comments; remove it"
                        ),
                    ));
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    fn push(&mut self, start: usize, kind: Kind) -> usize {
        self.nodes.push(Node {
            start,
            end: self.pos,
            kind,
        });
        self.nodes.len() - 1
    }

    /// Parses one value (with everything nested in it) at the current position.
    fn parse_value_tree(&mut self) -> Result<usize, Fail> {
        let mut stack: Vec<Frame> = Vec::new();
        'value: loop {
            self.skip_ws()?;
            let start = self.pos;
            let mut done = match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        self.push(start, Kind::Object(Vec::new()))
                    } else {
                        let (key, key_start) = self.parse_key("after `{`")?;
                        stack.push(Frame::Object {
                            members: Vec::new(),
                            open: start,
                            key,
                            key_start,
                        });
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        self.push(start, Kind::Array)
                    } else {
                        stack.push(Frame::Array { open: start });
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    let s = self.parse_string()?;
                    self.push(start, Kind::Str(s))
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.parse_number()?;
                    self.push(start, Kind::Number)
                }
                Some(b't') => {
                    self.literal("true")?;
                    self.push(start, Kind::Bool(true))
                }
                Some(b'f') => {
                    self.literal("false")?;
                    self.push(start, Kind::Bool(false))
                }
                Some(b'n') => {
                    self.literal("null")?;
                    self.push(start, Kind::Null)
                }
                _ => {
                    let context = match stack.last() {
                        Some(Frame::Object { key, .. }) => format!("the value of {}", quote(key)),
                        Some(Frame::Array { .. }) => "an array element".to_string(),
                        None => "a value".to_string(),
                    };
                    return Err(self.fail(
                        start,
                        EditErrorKind::Syntax,
                        format!(
                            "expected {context} (an object, array, string, number, true, false or null), found {}",
                            self.found()
                        ),
                    ));
                }
            };
            // Attach the finished value to its container; close containers
            // until one wants another element.
            loop {
                let Some(frame) = stack.last_mut() else {
                    return Ok(done);
                };
                match frame {
                    Frame::Object {
                        members,
                        open,
                        key,
                        key_start,
                    } => {
                        let last_key = std::mem::take(key);
                        members.push(Member {
                            key: last_key,
                            key_start: *key_start,
                            value: done,
                        });
                        self.skip_ws()?;
                        match self.peek() {
                            Some(b',') => {
                                let comma = self.pos;
                                self.pos += 1;
                                self.skip_ws()?;
                                if self.peek() == Some(b'}') {
                                    return Err(self.fail(
                                        comma,
                                        EditErrorKind::TrailingComma,
                                        "expected another member after `,`, found `}`: JSON does not allow a comma after the last member; remove this comma".to_string(),
                                    ));
                                }
                                let (k, ks) = self.parse_key("after `,`")?;
                                *key = k;
                                *key_start = ks;
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                let open = *open;
                                let members = std::mem::take(members);
                                stack.pop();
                                done = self.push(open, Kind::Object(members));
                            }
                            _ => {
                                let name = members.last().map(|m| m.key.as_str()).unwrap_or("");
                                let hint = match self.peek() {
                                    Some(b'"' | b'{' | b'[' | b'-' | b'0'..=b'9') => {
                                        " (is a `,` missing?)"
                                    }
                                    _ => "",
                                };
                                return Err(self.fail(
                                    self.pos,
                                    EditErrorKind::Syntax,
                                    format!(
                                        "expected `,` or `}}` after the value of {}, found {}{hint}",
                                        quote(name),
                                        self.found()
                                    ),
                                ));
                            }
                        }
                    }
                    Frame::Array { open } => {
                        self.skip_ws()?;
                        match self.peek() {
                            Some(b',') => {
                                let comma = self.pos;
                                self.pos += 1;
                                self.skip_ws()?;
                                if self.peek() == Some(b']') {
                                    return Err(self.fail(
                                        comma,
                                        EditErrorKind::TrailingComma,
                                        "expected another element after `,`, found `]`: JSON does not allow a comma after the last element; remove this comma".to_string(),
                                    ));
                                }
                                continue 'value;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                let open = *open;
                                stack.pop();
                                done = self.push(open, Kind::Array);
                            }
                            _ => {
                                let hint = match self.peek() {
                                    Some(b'"' | b'{' | b'[' | b'-' | b'0'..=b'9') => {
                                        " (is a `,` missing?)"
                                    }
                                    _ => "",
                                };
                                return Err(self.fail(
                                    self.pos,
                                    EditErrorKind::Syntax,
                                    format!(
                                        "expected `,` or `]` after an array element, found {}{hint}",
                                        self.found()
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
        }
    }

    /// A member's key and the `:` after it; leaves the position at the value.
    fn parse_key(&mut self, context: &str) -> Result<(String, usize), Fail> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return Err(self.fail(
                start,
                EditErrorKind::Syntax,
                format!(
                    "expected a key in double quotes {context}, found {}",
                    self.found()
                ),
            ));
        }
        let key = self.parse_string()?;
        self.skip_ws()?;
        if self.peek() != Some(b':') {
            return Err(self.fail(
                self.pos,
                EditErrorKind::Syntax,
                format!(
                    "expected `:` after the key {}, found {}",
                    quote(&key),
                    self.found()
                ),
            ));
        }
        self.pos += 1;
        Ok((key, start))
    }

    fn literal(&mut self, word: &str) -> Result<(), Fail> {
        if self.rest().starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.fail(
                self.pos,
                EditErrorKind::Syntax,
                format!(
                    "expected `{word}` (JSON literals are lower case), found {}",
                    found_at(self.text, self.pos)
                ),
            ))
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn parse_number(&mut self) -> Result<(), Fail> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.fail(
                        self.pos - 1,
                        EditErrorKind::Syntax,
                        "expected a number without leading zeros (JSON has no octal numbers)"
                            .to_string(),
                    ));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => {
                return Err(self.fail(
                    self.pos,
                    EditErrorKind::Syntax,
                    format!("expected a digit after `-`, found {}", self.found()),
                ));
            }
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.fail(
                    self.pos,
                    EditErrorKind::Syntax,
                    format!(
                        "expected a digit after the decimal point, found {}",
                        self.found()
                    ),
                ));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.fail(
                    self.pos,
                    EditErrorKind::Syntax,
                    format!("expected a digit in the exponent, found {}", self.found()),
                ));
            }
        }
        Ok(())
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.bytes.get(at..at + 4)?;
        let s = std::str::from_utf8(h).ok()?;
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// Parses a string starting at `"`, returning its decoded value.
    fn parse_string(&mut self) -> Result<String, Fail> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run = self.pos;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.fail(
                    open,
                    EditErrorKind::Syntax,
                    "expected a closing `\"` for the string that starts here, found the end of the file".to_string(),
                ));
            };
            match b {
                b'"' => {
                    out.push_str(self.text.get(run..self.pos).unwrap_or_default());
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(self.text.get(run..self.pos).unwrap_or_default());
                    let esc = self.pos;
                    let c = match self.bytes.get(esc + 1) {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            let Some(hi) = self.hex4(esc + 2) else {
                                return Err(self.fail(
                                    esc,
                                    EditErrorKind::Syntax,
                                    "expected four hex digits after `\\u`".to_string(),
                                ));
                            };
                            self.pos = esc + 6;
                            // A surrogate pair spells one character; a lone
                            // surrogate becomes U+FFFD, as Go (dockerd) does.
                            let lo = if (0xD800..0xDC00).contains(&hi)
                                && self.bytes.get(self.pos) == Some(&b'\\')
                                && self.bytes.get(self.pos + 1) == Some(&b'u')
                            {
                                self.hex4(self.pos + 2)
                                    .filter(|lo| (0xDC00..0xE000).contains(lo))
                            } else {
                                None
                            };
                            let c = match lo {
                                Some(lo) => {
                                    self.pos += 6;
                                    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                }
                                None => char::from_u32(hi),
                            };
                            out.push(c.unwrap_or('\u{FFFD}'));
                            run = self.pos;
                            continue;
                        }
                        _ => {
                            let shown = found_at(self.text, esc + 1);
                            return Err(self.fail(
                                esc,
                                EditErrorKind::Syntax,
                                format!(
                                    "expected an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX) after `\\`, found {shown}; write a backslash as `\\\\`"
                                ),
                            ));
                        }
                    };
                    out.push(c);
                    self.pos = esc + 2;
                    run = self.pos;
                }
                0x00..=0x1F => {
                    let what = if b == b'\n' || b == b'\r' {
                        "a line break".to_string()
                    } else {
                        format!("the control character U+{b:04X}")
                    };
                    return Err(self.fail(
                        self.pos,
                        EditErrorKind::Syntax,
                        format!(
                            "expected a closing `\"` before {what} (strings cannot span lines or hold raw control characters)"
                        ),
                    ));
                }
                _ => self.pos += 1,
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Reading the tree.

impl<'a> Doc<'a> {
    fn node(&self, i: usize) -> Result<&Node, Fail> {
        self.nodes
            .get(i)
            .ok_or_else(|| Fail::new(0, EditErrorKind::Internal, "internal error: missing node"))
    }

    fn members(&self, i: usize) -> Result<&[Member], Fail> {
        match &self.node(i)?.kind {
            Kind::Object(m) => Ok(m),
            _ => Err(Fail::new(
                0,
                EditErrorKind::Internal,
                "internal error: not an object",
            )),
        }
    }

    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or_default()
    }

    fn is_multiline(&self, node: &Node) -> bool {
        self.slice(node.start, node.end).contains('\n')
    }

    /// The member named `name`, refusing duplicates. With `fold_case`, keys
    /// that differ only in ASCII case count as the same key, because dockerd
    /// decodes its own settings (not map keys such as runtime names) with
    /// Go's case-insensitive field matching.
    fn find(&self, obj: usize, name: &str, fold_case: bool) -> Result<Option<usize>, Fail> {
        let members = self.members(obj)?;
        let same = |k: &str| {
            if fold_case {
                k.eq_ignore_ascii_case(name)
            } else {
                k == name
            }
        };
        let mut found: Option<usize> = None;
        for (i, m) in members.iter().enumerate() {
            if !same(&m.key) {
                continue;
            }
            if let Some(first) = found.and_then(|f| members.get(f)) {
                let (line, _) = line_col(self.text, first.key_start);
                return Err(Fail::new(
                    m.key_start,
                    EditErrorKind::DuplicateKey,
                    format!(
                        "expected {} only once, found it again (first on line {line}); dockerd would use only one of them, so nvctk will not guess: remove one",
                        quote(&m.key)
                    ),
                ));
            }
            found = Some(i);
        }
        let case_variant = found.and_then(|f| members.get(f)).filter(|m| m.key != name);
        if let Some(m) = case_variant {
            return Err(Fail::new(
                m.key_start,
                EditErrorKind::KeyCase,
                format!(
                    "expected the key {}, found {}: dockerd ignores letter case in its setting names, so nvctk will not add a second one; rename it to {}",
                    quote(name),
                    quote(&m.key),
                    quote(name)
                ),
            ));
        }
        Ok(found)
    }

    fn member(&self, obj: usize, i: usize) -> Result<&Member, Fail> {
        self.members(obj)?
            .get(i)
            .ok_or_else(|| Fail::new(0, EditErrorKind::Internal, "internal error: missing member"))
    }

    /// The whitespace before `pos` when only whitespace precedes it on its line.
    fn indent_before(&self, pos: usize) -> Option<&'a str> {
        let before = self.text.get(..pos)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let seg = before.get(line_start..)?;
        seg.bytes().all(|b| b == b' ' || b == b'\t').then_some(seg)
    }

    /// The leading whitespace of the line holding `pos`.
    fn line_indent(&self, pos: usize) -> &'a str {
        let before = self.text.get(..pos).unwrap_or_default();
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let line = self.text.get(line_start..).unwrap_or_default();
        let n = line
            .bytes()
            .take_while(|b| *b == b' ' || *b == b'\t')
            .count();
        line.get(..n).unwrap_or_default()
    }

    fn eol(&self) -> &'static str {
        match self.text.find('\n') {
            Some(i) if i > 0 && self.text.as_bytes().get(i - 1) == Some(&b'\r') => "\r\n",
            _ => "\n",
        }
    }

    /// One level of indentation, learned from the first multi-line object
    /// whose members start their own lines (the top level first).
    fn unit(&self) -> String {
        let root = std::iter::once(self.root);
        let others = (0..self.nodes.len()).filter(|i| *i != self.root);
        for i in root.chain(others) {
            let Some(node) = self.nodes.get(i) else {
                continue;
            };
            let Kind::Object(members) = &node.kind else {
                continue;
            };
            if !self.is_multiline(node) {
                continue;
            }
            let base = self.line_indent(node.start);
            for m in members {
                if let Some(unit) = self
                    .indent_before(m.key_start)
                    .and_then(|ind| ind.strip_prefix(base))
                    .filter(|u| !u.is_empty())
                {
                    return unit.to_string();
                }
            }
        }
        DEFAULT_UNIT.to_string()
    }

    /// How this object spells `:` (e.g. `": "`, `":"`, `" : "`), from its
    /// first member, else from the top level.
    fn colon(&self, obj: usize) -> String {
        for i in [obj, self.root] {
            let Ok(members) = self.members(i) else {
                continue;
            };
            let Some(m) = members.first() else { continue };
            let Ok(v) = self.node(m.value) else { continue };
            // The key ends at the first `"` not escaped; find its end by
            // re-scanning from the key start: keys were validated already.
            let key_end = string_end(self.text, m.key_start);
            let between = self.slice(key_end, v.start);
            if !between.contains('\n') && between.contains(':') {
                return between.to_string();
            }
        }
        DEFAULT_COLON.to_string()
    }

    /// The separator between members of a one-line object.
    fn compact_sep(&self, obj: usize, colon: &str) -> String {
        let members = self.members(obj).unwrap_or_default();
        if let (Some(a), Some(b)) = (members.first(), members.get(1)) {
            let end = self.node(a.value).map_or(0, |v| v.end);
            let between = self.slice(end, b.key_start);
            if !between.contains('\n') && between.contains(',') {
                return between.to_string();
            }
        }
        if colon.ends_with(' ') || colon.ends_with('\t') {
            ", ".to_string()
        } else {
            ",".to_string()
        }
    }

    fn describe(&self, i: usize) -> String {
        let Ok(node) = self.node(i) else {
            return "a value".to_string();
        };
        match &node.kind {
            Kind::Object(_) => "an object".to_string(),
            Kind::Array => "an array".to_string(),
            Kind::Str(s) => format!("the string {}", quote(s)),
            Kind::Number => format!("the number {}", self.slice(node.start, node.end)),
            Kind::Bool(b) => format!("{b}"),
            Kind::Null => "null".to_string(),
        }
    }
}

/// Byte offset just past the string literal that starts at `start` (a `"`).
fn string_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// A JSON string literal for `s`.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------
// Generating new text.

/// A value nvctk writes: literal JSON text, or an object of such values.
enum Gen {
    Raw(String),
    Obj(Vec<(String, Gen)>),
}

fn runtime_gen(path: &str) -> Gen {
    // The shape `nvidia-ctk runtime configure` writes (Go sorts the keys).
    Gen::Obj(vec![
        ("args".to_string(), Gen::Raw("[]".to_string())),
        ("path".to_string(), Gen::Raw(quote(path))),
    ])
}

/// How new text is laid out where it goes.
struct Layout {
    /// None: one line. Some: one member per line, with this line break.
    eol: Option<&'static str>,
    unit: String,
    colon: String,
    sep: String,
}

impl Layout {
    /// `value` as text whose closing brace sits at indentation `closing`.
    fn render(&self, value: &Gen, closing: &str) -> String {
        match value {
            Gen::Raw(s) => s.clone(),
            Gen::Obj(members) if members.is_empty() => "{}".to_string(),
            Gen::Obj(members) => {
                let mut out = String::from("{");
                match self.eol {
                    Some(eol) => {
                        let inner = format!("{closing}{}", self.unit);
                        for (i, (k, v)) in members.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            out.push_str(eol);
                            out.push_str(&inner);
                            out.push_str(&quote(k));
                            out.push_str(&self.colon);
                            out.push_str(&self.render(v, &inner));
                        }
                        out.push_str(eol);
                        out.push_str(closing);
                    }
                    None => {
                        for (i, (k, v)) in members.iter().enumerate() {
                            if i > 0 {
                                out.push_str(&self.sep);
                            }
                            out.push_str(&quote(k));
                            out.push_str(&self.colon);
                            out.push_str(&self.render(v, closing));
                        }
                    }
                }
                out.push('}');
                out
            }
        }
    }
}

struct Edit {
    start: usize,
    end: usize,
    text: String,
}

struct Editor<'d, 'a> {
    doc: &'d Doc<'a>,
    edits: Vec<Edit>,
    unit: String,
    eol: &'static str,
}

impl<'d, 'a> Editor<'d, 'a> {
    fn new(doc: &'d Doc<'a>) -> Self {
        Editor {
            doc,
            edits: Vec::new(),
            unit: doc.unit(),
            eol: doc.eol(),
        }
    }

    fn layout(&self, obj: usize, multiline: bool) -> Layout {
        let colon = self.doc.colon(obj);
        let sep = self.doc.compact_sep(obj, &colon);
        Layout {
            eol: multiline.then_some(self.eol),
            unit: self.unit.clone(),
            colon,
            sep,
        }
    }

    fn replace_value(&mut self, node: usize, text: String) -> Result<(), Fail> {
        let n = self.doc.node(node)?;
        self.edits.push(Edit {
            start: n.start,
            end: n.end,
            text,
        });
        Ok(())
    }

    /// Replaces an empty object or `null` (the value `node`, a member of
    /// `parent`, or the root when `parent` is None) with an object holding
    /// `members`. It is laid out over several lines when its parent is (or
    /// when it is the top level), else on one line like its surroundings.
    fn fill(
        &mut self,
        node: usize,
        parent: Option<usize>,
        members: Vec<(String, Gen)>,
    ) -> Result<(), Fail> {
        let n = self.doc.node(node)?;
        let multiline = match parent {
            None => true,
            Some(p) => self.doc.is_multiline(self.doc.node(p)?),
        };
        let layout = self.layout(parent.unwrap_or(node), multiline);
        let closing = self.doc.line_indent(n.start);
        let text = layout.render(&Gen::Obj(members), closing);
        self.replace_value(node, text)
    }

    /// Adds `members` to the object `obj`, after its last member, or fills it
    /// when it is empty.
    fn add_members(
        &mut self,
        obj: usize,
        parent: Option<usize>,
        members: Vec<(String, Gen)>,
    ) -> Result<(), Fail> {
        if members.is_empty() {
            return Ok(());
        }
        let existing = self.doc.members(obj)?;
        let Some(last) = existing.last() else {
            return self.fill(obj, parent, members);
        };
        let node = self.doc.node(obj)?;
        let at = self.doc.node(last.value)?.end;
        let multiline = self.doc.is_multiline(node);
        let layout = self.layout(obj, multiline);
        let mut text = String::new();
        if multiline {
            // Indent like the last member that starts its own line, so a new
            // member lines up with its neighbours.
            let indent = existing
                .iter()
                .rev()
                .find_map(|m| self.doc.indent_before(m.key_start))
                .map(str::to_string)
                .unwrap_or_else(|| format!("{}{}", self.doc.line_indent(node.start), self.unit));
            for (k, v) in &members {
                text.push(',');
                text.push_str(self.eol);
                text.push_str(&indent);
                text.push_str(&quote(k));
                text.push_str(&layout.colon);
                text.push_str(&layout.render(v, &indent));
            }
        } else {
            for (k, v) in &members {
                text.push_str(&layout.sep);
                text.push_str(&quote(k));
                text.push_str(&layout.colon);
                text.push_str(&layout.render(v, ""));
            }
        }
        self.edits.push(Edit {
            start: at,
            end: at,
            text,
        });
        Ok(())
    }

    /// Removes the members at `indices` from `obj`, with their commas, so the
    /// rest keeps its exact text. Undoes `add_members` byte for byte.
    fn remove_members(&mut self, obj: usize, indices: &[usize]) -> Result<(), Fail> {
        if indices.is_empty() {
            return Ok(());
        }
        let members = self.doc.members(obj)?;
        let node = self.doc.node(obj)?;
        let gone = |i: usize| indices.contains(&i);
        if (0..members.len()).all(gone) {
            self.edits.push(Edit {
                start: node.start,
                end: node.end,
                text: "{}".to_string(),
            });
            return Ok(());
        }
        let mut i = 0;
        while i < members.len() {
            if !gone(i) {
                i += 1;
                continue;
            }
            let first = i;
            while i < members.len() && gone(i) {
                i += 1;
            }
            let last = i - 1;
            let last_end = self.doc.node(self.doc.member(obj, last)?.value)?.end;
            let edit = if first > 0 {
                // From the end of the kept member before the run (taking the
                // comma that led into the run) to the end of the run.
                let prev = self.doc.member(obj, first - 1)?;
                Edit {
                    start: self.doc.node(prev.value)?.end,
                    end: last_end,
                    text: String::new(),
                }
            } else {
                // A run at the front: cut up to the next kept key, so that
                // key takes the first member's place and indentation.
                Edit {
                    start: self.doc.member(obj, first)?.key_start,
                    end: self.doc.member(obj, i)?.key_start,
                    text: String::new(),
                }
            };
            self.edits.push(edit);
        }
        Ok(())
    }
}

fn plan_add(doc: &Doc<'_>, want: &Want, actions: &mut Vec<String>) -> Result<Vec<Edit>, Fail> {
    let mut ed = Editor::new(doc);
    let root = doc.root;
    let name = &want.runtime_name;
    let path = &want.runtime_path;
    // New top-level members, written in Go's sorted order like nvidia-ctk.
    let mut root_new: Vec<(String, Gen)> = Vec::new();

    // runtimes.<name>
    match doc.find(root, "runtimes", true)? {
        None => {
            root_new.push((
                "runtimes".to_string(),
                Gen::Obj(vec![(name.clone(), runtime_gen(path))]),
            ));
            actions.push(format!("add runtime {} (path {path})", quote(name)));
        }
        Some(ri) => {
            let rt = doc.member(root, ri)?.value;
            match &doc.node(rt)?.kind {
                Kind::Null => {
                    ed.fill(rt, Some(root), vec![(name.clone(), runtime_gen(path))])?;
                    actions.push(format!(
                        "add runtime {} (path {path}) in place of \"runtimes\": null",
                        quote(name)
                    ));
                }
                Kind::Object(members) => {
                    let others: Vec<&str> = members
                        .iter()
                        .filter(|m| m.key != *name)
                        .map(|m| m.key.as_str())
                        .collect();
                    match doc.find(rt, name, false)? {
                        None => {
                            ed.add_members(
                                rt,
                                Some(root),
                                vec![(name.clone(), runtime_gen(path))],
                            )?;
                            actions.push(format!("add runtime {} (path {path})", quote(name)));
                        }
                        Some(ni) => {
                            let nv = doc.member(rt, ni)?.value;
                            plan_runtime_entry(doc, &mut ed, rt, nv, want, actions)?;
                        }
                    }
                    if !others.is_empty() {
                        actions.push(format!("keep other runtimes: {}", others.join(", ")));
                    }
                }
                _ => {
                    return Err(Fail::new(
                        doc.node(rt)?.start,
                        EditErrorKind::WrongType,
                        format!(
                            "expected \"runtimes\" to be an object (or null), found {}",
                            doc.describe(rt)
                        ),
                    ));
                }
            }
        }
    }

    // default-runtime: written only on request, always reported.
    let dr = doc.find(root, "default-runtime", true)?;
    let dr_value = match dr {
        Some(i) => Some(doc.member(root, i)?.value),
        None => None,
    };
    let current = match dr_value {
        Some(v) => match &doc.node(v)?.kind {
            Kind::Str(s) => Some(s.clone()),
            _ => Some(doc.slice(doc.node(v)?.start, doc.node(v)?.end).to_string()),
        },
        None => None,
    };
    if want.set_default {
        match (dr_value, &current) {
            (None, _) => {
                root_new.push(("default-runtime".to_string(), Gen::Raw(quote(name))));
                actions.push(format!(
                    "set default-runtime to {} (was not set)",
                    quote(name)
                ));
            }
            (Some(v), cur) => {
                let is_string = matches!(doc.node(v)?.kind, Kind::Str(_));
                if is_string && cur.as_deref() == Some(name.as_str()) {
                    actions.push(format!("default-runtime is already {}", quote(name)));
                } else {
                    ed.replace_value(v, quote(name))?;
                    actions.push(format!(
                        "set default-runtime to {} (was {})",
                        quote(name),
                        cur.as_deref().unwrap_or("")
                    ));
                }
            }
        }
    } else {
        match &current {
            Some(c) => actions.push(format!("leave default-runtime ({c})")),
            None => actions.push("leave default-runtime (not set: runc)".to_string()),
        }
    }

    // features.cdi
    if want.cdi {
        let cdi_true = || vec![("cdi".to_string(), Gen::Raw("true".to_string()))];
        match doc.find(root, "features", true)? {
            None => {
                root_new.push(("features".to_string(), Gen::Obj(cdi_true())));
                actions.push("enable CDI: add \"features\": {\"cdi\": true}".to_string());
            }
            Some(fi) => {
                let f = doc.member(root, fi)?.value;
                match &doc.node(f)?.kind {
                    Kind::Null => {
                        ed.fill(f, Some(root), cdi_true())?;
                        actions.push(
                            "enable CDI: features.cdi = true (features was null)".to_string(),
                        );
                    }
                    Kind::Object(_) => match doc.find(f, "cdi", false)? {
                        None => {
                            ed.add_members(f, Some(root), cdi_true())?;
                            actions.push("enable CDI: add features.cdi = true".to_string());
                        }
                        Some(ci) => {
                            let c = doc.member(f, ci)?.value;
                            if matches!(doc.node(c)?.kind, Kind::Bool(true)) {
                                actions.push(
                                    "CDI is already enabled (features.cdi = true)".to_string(),
                                );
                            } else {
                                let was =
                                    doc.slice(doc.node(c)?.start, doc.node(c)?.end).to_string();
                                ed.replace_value(c, "true".to_string())?;
                                actions.push(format!(
                                    "enable CDI: set features.cdi to true (was {was})"
                                ));
                            }
                        }
                    },
                    _ => {
                        return Err(Fail::new(
                            doc.node(f)?.start,
                            EditErrorKind::WrongType,
                            format!(
                                "expected \"features\" to be an object like {{\"cdi\": true}}, found {}",
                                doc.describe(f)
                            ),
                        ));
                    }
                }
            }
        }
    }

    root_new.sort_by(|a, b| a.0.cmp(&b.0));
    ed.add_members(root, None, root_new)?;
    Ok(ed.edits)
}

/// An existing `runtimes.<name>` entry: keep it when it already runs the
/// wanted binary, else point its `path` there, touching nothing else in it.
fn plan_runtime_entry(
    doc: &Doc<'_>,
    ed: &mut Editor<'_, '_>,
    runtimes: usize,
    entry: usize,
    want: &Want,
    actions: &mut Vec<String>,
) -> Result<(), Fail> {
    let name = &want.runtime_name;
    let path = &want.runtime_path;
    if !matches!(doc.node(entry)?.kind, Kind::Object(_)) {
        return Err(Fail::new(
            doc.node(entry)?.start,
            EditErrorKind::WrongType,
            format!(
                "expected runtime {} to be an object like {{\"path\": {}}}, found {}",
                quote(name),
                quote(DEFAULT_RUNTIME_PATH),
                doc.describe(entry)
            ),
        ));
    }
    match doc.find(entry, "path", true)? {
        Some(pi) => {
            let p = doc.member(entry, pi)?.value;
            match &doc.node(p)?.kind {
                Kind::Str(current) if runtime_paths_match(current, path) => {
                    actions.push(format!(
                        "runtime {} is already registered (path {current})",
                        quote(name)
                    ));
                }
                Kind::Str(current) => {
                    ed.replace_value(p, quote(path))?;
                    actions.push(format!(
                        "change the path of runtime {} from {current} to {path}",
                        quote(name)
                    ));
                }
                _ => {
                    return Err(Fail::new(
                        doc.node(p)?.start,
                        EditErrorKind::WrongType,
                        format!(
                            "expected the path of runtime {} to be a string, found {}",
                            quote(name),
                            doc.describe(p)
                        ),
                    ));
                }
            }
        }
        None => {
            // Docker 23+ runtimes may name a containerd shim instead of a path;
            // adding a path would make dockerd refuse the entry.
            if let Some(ti) = doc.find(entry, "runtimeType", true)? {
                let t = doc.member(entry, ti)?.value;
                actions.push(format!(
                    "leave runtime {} as it is (it uses runtimeType {}, not a path)",
                    quote(name),
                    doc.slice(doc.node(t)?.start, doc.node(t)?.end)
                ));
            } else {
                ed.add_members(
                    entry,
                    Some(runtimes),
                    vec![("path".to_string(), Gen::Raw(quote(path)))],
                )?;
                actions.push(format!(
                    "add the missing path {path} to runtime {}",
                    quote(name)
                ));
            }
        }
    }
    Ok(())
}

fn plan_remove(
    doc: &Doc<'_>,
    name: &str,
    reset_default: bool,
    actions: &mut Vec<String>,
) -> Result<Vec<Edit>, Fail> {
    let mut ed = Editor::new(doc);
    let root = doc.root;
    let mut root_gone: Vec<usize> = Vec::new();

    match doc.find(root, "runtimes", true)? {
        None => actions.push(format!("no runtime {} to remove", quote(name))),
        Some(ri) => {
            let rt = doc.member(root, ri)?.value;
            match &doc.node(rt)?.kind {
                Kind::Null => actions.push(format!("no runtime {} to remove", quote(name))),
                Kind::Object(members) => match doc.find(rt, name, false)? {
                    None => actions.push(format!("no runtime {} to remove", quote(name))),
                    Some(ni) => {
                        actions.push(format!("remove runtime {}", quote(name)));
                        if members.len() == 1 {
                            root_gone.push(ri);
                            actions.push("remove \"runtimes\" (no runtime left in it)".to_string());
                        } else {
                            ed.remove_members(rt, &[ni])?;
                        }
                    }
                },
                _ => {
                    return Err(Fail::new(
                        doc.node(rt)?.start,
                        EditErrorKind::WrongType,
                        format!(
                            "expected \"runtimes\" to be an object (or null), found {}",
                            doc.describe(rt)
                        ),
                    ));
                }
            }
        }
    }

    if let Some(di) = doc.find(root, "default-runtime", true)? {
        let v = doc.member(root, di)?.value;
        let node = doc.node(v)?;
        let names_it = matches!(&node.kind, Kind::Str(s) if s == name);
        let shown = match &node.kind {
            Kind::Str(s) => s.clone(),
            _ => doc.slice(node.start, node.end).to_string(),
        };
        if names_it && reset_default {
            root_gone.push(di);
            actions.push(format!(
                "remove \"default-runtime\": {} (dockerd falls back to runc)",
                quote(name)
            ));
        } else if names_it {
            actions.push(format!(
                "leave default-runtime ({shown}); dockerd will not start while it names a runtime that is not registered"
            ));
        } else {
            actions.push(format!("leave default-runtime ({shown})"));
        }
    }

    root_gone.sort_unstable();
    ed.remove_members(root, &root_gone)?;
    Ok(ed.edits)
}

/// Splices non-overlapping edits into `text`.
fn apply(text: &str, mut edits: Vec<Edit>) -> Result<String, Fail> {
    edits.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len() + 256);
    let mut cursor = 0;
    for e in edits {
        if e.start < cursor || e.end < e.start {
            return Err(Fail::new(
                e.start,
                EditErrorKind::Internal,
                "internal error: overlapping edits; the file was not changed",
            ));
        }
        let kept = text.get(cursor..e.start).ok_or_else(|| {
            Fail::new(
                e.start,
                EditErrorKind::Internal,
                "internal error: bad edit span",
            )
        })?;
        out.push_str(kept);
        out.push_str(&e.text);
        cursor = e.end;
    }
    out.push_str(text.get(cursor..).unwrap_or_default());
    Ok(out)
}

// ---------------------------------------------------------------------------
// Unified diff for --dry-run.

/// A unified diff (3 lines of context, GNU `diff -u` hunk format) from `old`
/// to `new`, both headers naming `path_label`. Empty when the two are equal.
pub fn unified_diff(path_label: &str, old: &[u8], new: &[u8]) -> String {
    if old == new {
        return String::new();
    }
    let a = split_lines(old);
    let b = split_lines(new);
    let ops = diff_lines(&a, &b);
    let mut out = format!("--- {path_label}\n+++ {path_label}\n");
    const CONTEXT: usize = 3;

    // Positions (in `ops`) of changes, grouped into hunks whose changes are
    // at most 2 * CONTEXT equal lines apart.
    let changes: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, DiffOp::Equal(..)))
        .map(|(i, _)| i)
        .collect();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for &c in &changes {
        match groups.last_mut() {
            Some((_, end)) if c - *end <= 2 * CONTEXT + 1 => *end = c,
            _ => groups.push((c, c)),
        }
    }
    for (first, last) in groups {
        let from = first.saturating_sub(CONTEXT);
        let to = (last + CONTEXT + 1).min(ops.len());
        let hunk = ops.get(from..to).unwrap_or_default();
        // Line numbers before the hunk come from the first op's position.
        let (mut old_before, mut new_before) = (0, 0);
        for op in ops.get(..from).unwrap_or_default() {
            match op {
                DiffOp::Equal(..) => {
                    old_before += 1;
                    new_before += 1;
                }
                DiffOp::Delete(_) => old_before += 1,
                DiffOp::Insert(_) => new_before += 1,
            }
        }
        let old_len = hunk
            .iter()
            .filter(|op| !matches!(op, DiffOp::Insert(_)))
            .count();
        let new_len = hunk
            .iter()
            .filter(|op| !matches!(op, DiffOp::Delete(_)))
            .count();
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            hunk_range(old_before, old_len),
            hunk_range(new_before, new_len)
        ));
        for op in hunk {
            let (mark, line) = match op {
                DiffOp::Equal(i) => (' ', a.get(*i)),
                DiffOp::Delete(i) => ('-', a.get(*i)),
                DiffOp::Insert(j) => ('+', b.get(*j)),
            };
            let line = line.copied().unwrap_or_default();
            out.push(mark);
            out.push_str(&String::from_utf8_lossy(line));
            if !line.ends_with(b"\n") {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

fn hunk_range(before: usize, len: usize) -> String {
    // GNU diff: an empty range names the line before it; a range of one
    // line omits the length.
    match len {
        0 => format!("{before},0"),
        1 => format!("{}", before + 1),
        n => format!("{},{n}", before + 1),
    }
}

/// Lines with their terminators, so a change of the final newline shows.
fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, b) in text.iter().enumerate() {
        if *b == b'\n' {
            lines.push(text.get(start..=i).unwrap_or_default());
            start = i + 1;
        }
    }
    if start < text.len() {
        lines.push(text.get(start..).unwrap_or_default());
    }
    lines
}

#[derive(Debug, Clone, Copy)]
enum DiffOp {
    /// An unchanged line, by its index in the old text.
    Equal(usize),
    Delete(usize),
    Insert(usize),
}

/// A shortest edit script by longest common subsequence. The common prefix
/// and suffix are peeled first, so the table only covers the changed middle,
/// which for a daemon.json edit is a handful of lines; a middle too big for
/// the table degrades to "delete all, insert all", still a correct diff.
fn diff_lines(a: &[&[u8]], b: &[&[u8]]) -> Vec<DiffOp> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(a.len().min(b.len()) - prefix)
        .take_while(|(x, y)| x == y)
        .count();
    let am = a.get(prefix..a.len() - suffix).unwrap_or_default();
    let bm = b.get(prefix..b.len() - suffix).unwrap_or_default();
    let mut ops: Vec<DiffOp> = (0..prefix).map(DiffOp::Equal).collect();

    let (n, m) = (am.len(), bm.len());
    const MAX_CELLS: usize = 4_000_000;
    if n.saturating_mul(m) <= MAX_CELLS {
        // lcs[i][j] = LCS length of am[i..] and bm[j..], row-major.
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                let v = if am.get(i) == bm.get(j) {
                    lcs.get((i + 1) * w + j + 1).copied().unwrap_or(0) + 1
                } else {
                    let down = lcs.get((i + 1) * w + j).copied().unwrap_or(0);
                    let right = lcs.get(i * w + j + 1).copied().unwrap_or(0);
                    down.max(right)
                };
                if let Some(cell) = lcs.get_mut(i * w + j) {
                    *cell = v;
                }
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am.get(i) == bm.get(j) {
                ops.push(DiffOp::Equal(prefix + i));
                i += 1;
                j += 1;
            } else if j >= m
                || (i < n
                    && lcs.get((i + 1) * w + j).copied().unwrap_or(0)
                        >= lcs.get(i * w + j + 1).copied().unwrap_or(0))
            {
                // Deletions first, as diff -u prints them.
                ops.push(DiffOp::Delete(prefix + i));
                i += 1;
            } else {
                ops.push(DiffOp::Insert(prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..n).map(|i| DiffOp::Delete(prefix + i)));
        ops.extend((0..m).map(|j| DiffOp::Insert(prefix + j)));
    }
    ops.extend((a.len() - suffix..a.len()).map(DiffOp::Equal));
    ops
}
