//! Reading one drop file: inspection (hash, size, encoding), then its rows.
//!
//! Owned by the intake: `inspect` reads the bytes once to fingerprint the file and detect its
//! encoding; `RowReader` then streams the header and rows, with the 1-based physical line where
//! each row starts.
//!
//! Only regular files are read ([`open_regular`]): a FIFO, device, socket or directory is refused
//! without blocking.
//!
//! Encoding detection ([`inspect`]), in this order: an empty file is refused; then a binary file:
//! a known binary format by its first bytes (PNG, ZIP/xlsx, xls, PDF, …), a UTF-16 BOM, or NUL and
//! other control bytes making more than 2 % of the file. A text file with a few stray NUL or
//! control bytes is read: validation rejects just the rows that hold them. Then valid UTF-8 (with
//! or without BOM); then text that decodes strictly as GB18030 (a superset of GBK/GB2312);
//! anything else is refused with the line and byte offset of the first bad byte (of the encoding
//! that got further).
//!
//! Rows ([`RowReader`]):
//! - CSV: comma-separated, `"` quoting (fields may hold commas, quotes and line breaks), CRLF or
//!   LF. The first non-blank record is the header. Blank lines, and rows whose cells are all
//!   blank (Excel's trailing `,,,,` rows), are skipped: they bring nothing. A row whose cell count
//!   differs from the header's is returned with a [`Row::problem`] (its values still filled).
//! - JSONL: UTF-8 only, one JSON object per physical line, blank lines skipped. Keys are column
//!   names (English or Chinese); values may be strings, numbers or booleans (`null` = absent).
//!   A line that is not a JSON object, holds an array/object value or names a column twice is
//!   returned with a problem and all values `None`. The first non-blank line must be an object
//!   with at least one known key, else the whole file is [`OpenError::Unreadable`]. The
//!   [`HeaderMap`] grows as keys are seen (`positions[i] = Some(i)`, unknown keys collected once);
//!   its `missing` stays empty: each row's own absent fields are left to validation.
//! - [`Row::line`] is the 1-based physical line where the row starts (CSV: the header is line 1;
//!   line breaks inside quoted fields count).
//! - No row is read beyond [`MAX_ROW_BYTES`]: the rest of a longer CSV record or JSONL line is
//!   skipped unread (a CSV record's end found by tracking quotes as the parser does) and the row
//!   comes with a problem, so memory stays bounded whatever a cell holds. A CSV quote left open
//!   at the end of the file is named as such (every line after it became part of that row).

use encoding_rs::{DecoderResult, GB18030};
use encoding_rs_io::DecodeReaderBytesBuilder;
use mz_shared::feed::{Feed, HeaderMap};
use mz_shared::reason::Reason;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// The file formats the inbox accepts, by extension (case-insensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// `.csv`: a header line, then one row per line (quoted fields may span lines).
    Csv,
    /// `.jsonl`, `.ndjson`: one JSON object per line, keys as the header names.
    Jsonl,
    /// An Excel workbook: its first worksheet ([`crate::workbook`]).
    Xlsx,
}

impl SourceFormat {
    /// The accepted extensions, for messages: `.csv, .jsonl, .ndjson, .xlsx`.
    pub const ACCEPTED: &'static str = ".csv, .jsonl, .ndjson, .xlsx";

    /// `.csv` → Csv, `.jsonl`/`.ndjson` → Jsonl, `.xlsx` → Xlsx, anything else → None.
    pub fn of(path: &Path) -> Option<SourceFormat> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("csv") {
            Some(SourceFormat::Csv)
        } else if ext.eq_ignore_ascii_case("jsonl") || ext.eq_ignore_ascii_case("ndjson") {
            Some(SourceFormat::Jsonl)
        } else if ext.eq_ignore_ascii_case("xlsx") {
            Some(SourceFormat::Xlsx)
        } else {
            None
        }
    }
}

/// The text encoding of a file, detected from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TextEncoding {
    /// UTF-8, `bom` when it starts with EF BB BF.
    Utf8 {
        /// The file starts with the byte-order mark EF BB BF (skipped when reading).
        bom: bool,
    },
    /// GB18030 (a superset of GBK and GB2312), as written by Excel and older systems.
    Gb18030,
    /// Not text: an Excel workbook, read cell by cell.
    Xlsx,
}

impl TextEncoding {
    /// The name `mzd check` prints: `utf-8`, `utf-8-bom` or `gb18030`.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 { bom: false } => "utf-8",
            TextEncoding::Utf8 { bom: true } => "utf-8-bom",
            TextEncoding::Gb18030 => "gb18030",
            TextEncoding::Xlsx => "xlsx",
        }
    }
}

/// What one read of the whole file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// BLAKE3 of the bytes: the file's identity in the ledger.
    pub hash: [u8; 32],
    /// Bytes read.
    pub size: u64,
    /// `Err` with a clerk-readable reason when the file as a whole cannot be read
    /// (empty, binary, undecodable).
    pub encoding: Result<TextEncoding, Reason>,
    /// The file starts like a ZIP container (what an `.xlsx` workbook is).
    pub zip: bool,
}

/// Read size of [`inspect`].
const INSPECT_BUF: usize = 256 * 1024;
/// Output buffer of the (discarded) GB18030 decoding in [`inspect`].
const GB_OUT_BUF: usize = 64 * 1024;

/// Where in the file a bad byte is: 0-based byte offset and 1-based line.
#[derive(Debug, Clone, Copy)]
struct BadByte {
    offset: u64,
    line: u64,
}

/// Strict GB18030 decoding (output discarded), fed in pieces.
struct GbCheck {
    dec: encoding_rs::Decoder,
    out: Vec<u8>,
    /// Absolute offset of the next byte to feed.
    fed: u64,
    /// Line breaks fed so far.
    lines: u64,
    bad: Option<BadByte>,
}

impl GbCheck {
    fn new() -> GbCheck {
        GbCheck {
            dec: GB18030.new_decoder_without_bom_handling(),
            out: vec![0; GB_OUT_BUF],
            fed: 0,
            lines: 0,
            bad: None,
        }
    }

    /// Feeds the next bytes; false once a bad byte was found.
    fn feed(&mut self, bytes: &[u8]) -> bool {
        if self.bad.is_some() {
            return false;
        }
        let mut consumed = 0usize;
        loop {
            let (res, read, _) = self.dec.decode_to_utf8_without_replacement(&bytes[consumed..], &mut self.out, false);
            consumed += read;
            match res {
                DecoderResult::InputEmpty => break,
                DecoderResult::OutputFull => continue,
                DecoderResult::Malformed(bad, extra) => {
                    // The bad sequence may have begun in an earlier piece.
                    let at = (self.fed + consumed as u64).saturating_sub(u64::from(bad) + u64::from(extra));
                    let within = at.saturating_sub(self.fed) as usize;
                    let line = self.lines + count_lf(&bytes[..within]) + 1;
                    self.bad = Some(BadByte { offset: at, line });
                    return false;
                }
            }
        }
        self.fed += bytes.len() as u64;
        self.lines += count_lf(bytes);
        true
    }

    /// At the end of the input: an unfinished sequence is bad too.
    fn finish(&mut self) {
        if self.bad.is_none() {
            if let (DecoderResult::Malformed(bad, _), _, _) =
                self.dec.decode_to_utf8_without_replacement(&[], &mut self.out, true)
            {
                self.bad = Some(BadByte { offset: self.fed.saturating_sub(u64::from(bad)), line: self.lines + 1 });
            }
        }
    }
}

/// GB18030-checks the first `len` bytes of the file (read again, in pieces).
fn gb_prefix(file: &File, len: u64) -> io::Result<GbCheck> {
    use std::os::unix::fs::FileExt;
    let mut g = GbCheck::new();
    let mut piece = vec![0u8; INSPECT_BUF];
    let mut at = 0u64;
    while at < len && g.bad.is_none() {
        let want = (len - at).min(INSPECT_BUF as u64) as usize;
        let got = file.read_at(&mut piece[..want], at)?;
        if got == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the file shrank while it was read"));
        }
        g.feed(&piece[..got]);
        at += got as u64;
    }
    Ok(g)
}

fn count_lf(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// Reads the file once: hash, size and encoding.
///
/// Streams the bytes in constant memory: BLAKE3, NUL search and UTF-8 validation (sequences may
/// straddle read buffers). Strict GB18030 decoding starts only once the bytes are known not to be
/// UTF-8: from the failing buffer when everything before it was ASCII (a GBK file's first Chinese
/// character), else from the start of the file, re-reading that prefix (mixed files only).
pub fn inspect(path: &Path) -> io::Result<Inspection> {
    let mut file = open_regular(path)?;
    let mut hasher = blake3::Hasher::new();
    // `buf[..carry]` holds the incomplete UTF-8 sequence at the end of the previous read (≤ 3 bytes).
    let mut buf = vec![0u8; INSPECT_BUF + 4];
    let mut carry = 0usize;
    let mut size = 0u64;
    let mut newlines = 0u64; // before the current chunk, while UTF-8 is still valid
    let mut ascii_so_far = true;
    let mut head = [0u8; HEAD];
    // Control bytes other than tab and line breaks (NUL included), and where the first one is.
    let mut controls = 0u64;
    let mut first_control: Option<u64> = None;
    let mut utf8_bad: Option<BadByte> = None;
    let mut gb: Option<GbCheck> = None;

    loop {
        let n = match file.read(&mut buf[carry..carry + INSPECT_BUF]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let start = size; // absolute offset of the chunk's first byte
        let data_len = carry + n;
        let chunk = &buf[carry..data_len];
        hasher.update(chunk);
        if start < HEAD as u64 {
            for (i, b) in chunk.iter().take(HEAD - start as usize).enumerate() {
                head[start as usize + i] = *b;
            }
        }
        size += n as u64;
        let c = chunk.iter().filter(|&&b| is_control_byte(b)).count() as u64;
        if c > 0 {
            first_control
                .get_or_insert_with(|| start + chunk.iter().position(|&b| is_control_byte(b)).unwrap_or(0) as u64);
            controls += c;
        }

        // UTF-8, until the first bad byte.
        let mut keep = 0usize; // incomplete sequence at the end, kept for the next read
        if utf8_bad.is_none() {
            match std::str::from_utf8(&buf[..data_len]) {
                Ok(_) => {}
                Err(e) => {
                    let valid = e.valid_up_to();
                    match e.error_len() {
                        None => keep = data_len - valid,
                        Some(_) => {
                            let off = (start - carry as u64) + valid as u64;
                            let line = newlines + count_lf(&buf[carry..valid.max(carry)]) + 1;
                            utf8_bad = Some(BadByte { offset: off, line });
                        }
                    }
                }
            }
        }
        let chunk = &buf[carry..data_len];
        // GB18030, once UTF-8 failed.
        if utf8_bad.is_some() {
            match gb.as_mut() {
                Some(g) => {
                    g.feed(chunk);
                }
                None => {
                    let mut g = if ascii_so_far {
                        // ASCII is the same in GB18030: start decoding here.
                        let mut g = GbCheck::new();
                        g.fed = start;
                        g.lines = newlines;
                        g
                    } else {
                        // Non-ASCII text before this chunk: decode from the start of the file.
                        gb_prefix(&file, start)?
                    };
                    g.feed(chunk);
                    gb = Some(g);
                }
            }
        } else {
            newlines += count_lf(chunk);
        }
        if ascii_so_far {
            ascii_so_far = chunk.is_ascii();
        }
        if keep > 0 {
            buf.copy_within(data_len - keep..data_len, 0);
        }
        carry = keep;
    }

    // End of file: an incomplete sequence left over is an error of either encoding.
    if utf8_bad.is_none() && carry > 0 {
        utf8_bad = Some(BadByte { offset: size - carry as u64, line: newlines + 1 });
        gb = Some(gb_prefix(&file, size)?);
    }
    if let Some(g) = gb.as_mut() {
        g.finish();
    }
    let gb_bad = gb.as_ref().and_then(|g| g.bad);
    let binary = binary_kind(&head[..(size.min(HEAD as u64) as usize)], controls, size);

    let encoding = if size == 0 {
        Err(Reason::new(
            "空文件：文件没有任何内容，请确认导出已完成后重新放入",
            "empty file: it has no content; check that the export finished and drop the file again",
        ))
    } else if let Some(kind) = binary {
        Err(binary_reason(kind, first_control.unwrap_or(0), controls))
    } else if utf8_bad.is_none() {
        Ok(TextEncoding::Utf8 { bom: head.starts_with(&[0xEF, 0xBB, 0xBF]) })
    } else if gb_bad.is_none() {
        Ok(TextEncoding::Gb18030)
    } else {
        // Report the bad byte of the encoding that got further: most likely the intended one.
        let (u, g) =
            (utf8_bad.unwrap_or(BadByte { offset: 0, line: 1 }), gb_bad.unwrap_or(BadByte { offset: 0, line: 1 }));
        let bad = if u.offset >= g.offset { u } else { g };
        Err(Reason::new(
            format!(
                "文件编码无法识别：第 {} 行（字节偏移 {}）的字节既不是 UTF-8 也不是 GBK/GB18030 编码；\
                 请用 Excel 另存为“CSV UTF-8”或 GBK 编码的 CSV 后重新放入",
                bad.line, bad.offset
            ),
            format!(
                "cannot decode the file: line {} (byte offset {}) holds bytes that are neither UTF-8 nor GBK/GB18030; \
                 save it again as a UTF-8 or GBK CSV and drop it again",
                bad.line, bad.offset
            ),
        ))
    };
    let zip = head.starts_with(b"PK\x03\x04");
    Ok(Inspection { hash: *hasher.finalize().as_bytes(), size, encoding, zip })
}

/// Bytes of the file's start kept to recognise binary formats.
const HEAD: usize = 8;

/// A control byte that has no place in text: C0 controls other than tab, LF and CR (NUL
/// included), and DEL. A few of them only reject their rows; many make the file binary.
fn is_control_byte(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F
}

/// Why a file is binary rather than text with a few bad bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Binary {
    /// A known binary format, by its first bytes (名称, name).
    Format(&'static str, &'static str),
    /// A UTF-16 byte-order mark.
    Utf16,
    /// Control bytes make more than 2 % of the file (at least 4 of them).
    Controls,
}

/// Known binary formats by their first bytes.
const MAGIC: &[(&[u8], &str, &str)] = &[
    (b"\x89PNG\r\n\x1a\n", "PNG 图片", "a PNG image"),
    (b"PK\x03\x04", "ZIP 压缩包（或 .xlsx 工作簿）", "a ZIP archive (or an .xlsx workbook)"),
    (b"PK\x05\x06", "ZIP 压缩包", "a ZIP archive"),
    (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "旧版 Excel（.xls）或 Word 文件", "an old Excel (.xls) or Word file"),
    (b"%PDF-", "PDF 文件", "a PDF file"),
    (b"\x1F\x8B", "gzip 压缩文件", "a gzip archive"),
    (b"\xFF\xD8\xFF", "JPEG 图片", "a JPEG image"),
    (b"GIF8", "GIF 图片", "a GIF image"),
    (b"7z\xBC\xAF\x27\x1C", "7z 压缩包", "a 7z archive"),
    (b"Rar!\x1A\x07", "RAR 压缩包", "a RAR archive"),
    (b"\x7FELF", "程序文件", "a program"),
];

/// Whether a file is binary: a known format, a UTF-16 BOM, or too many control bytes. A text
/// file with a few stray NUL or control bytes is not: those rows are rejected one by one.
fn binary_kind(head: &[u8], controls: u64, size: u64) -> Option<Binary> {
    if let Some((_, zh, en)) = MAGIC.iter().find(|(m, _, _)| head.starts_with(m)) {
        return Some(Binary::Format(zh, en));
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Some(Binary::Utf16);
    }
    (controls >= 4 && controls * 50 > size).then_some(Binary::Controls)
}

fn binary_reason(kind: Binary, first: u64, controls: u64) -> Reason {
    const FIX_ZH: &str = "请另存为 UTF-8 或 GBK 编码的 CSV 后重新放入";
    const FIX_EN: &str = "save it as a UTF-8 or GBK CSV and drop it again";
    match kind {
        Binary::Format(zh, en) => Reason::new(
            format!("文件是{zh}，不是 CSV 或 JSONL 文本，无法读取；{FIX_ZH}"),
            format!("the file is {en}, not CSV or JSONL text, and cannot be read; {FIX_EN}"),
        ),
        Binary::Utf16 => Reason::new(
            format!("文件是 UTF-16 编码的文本（含有 NUL 字节），无法读取；{FIX_ZH}"),
            format!("the file is UTF-16 text (it holds NUL bytes) and cannot be read; {FIX_EN}"),
        ),
        Binary::Controls => Reason::new(
            format!(
                "文件含有 {controls} 个 NUL 或其他控制字节（第一个在字节偏移 {first}），是二进制文件（如 Excel 工作簿）\
                 或 UTF-16 编码的文本，无法读取；{FIX_ZH}"
            ),
            format!(
                "the file contains {controls} NUL or other control bytes (the first at byte offset {first}): it is binary \
                 (e.g. an Excel workbook) or UTF-16 text and cannot be read; {FIX_EN}"
            ),
        ),
    }
}

/// What a file that is not a regular file is, in words: "a directory", "a FIFO (named pipe)"…
pub fn file_kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_file() {
        "a regular file"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Opens a regular file for reading; anything else (a FIFO, a device, a socket, a directory)
/// is refused without blocking: opening a FIFO for reading would wait for a writer, and reading
/// `/dev/zero` never ends.
pub fn open_regular(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NONBLOCK).open(path)?;
    let t = file.metadata()?.file_type();
    if t.is_file() {
        return Ok(file);
    }
    let what = file_kind(t);
    Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is {what}, not a regular file", path.display())))
}

/// Why a whole file cannot be read as rows.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The file is not a readable feed file (bad header, encoding, workbook); the reason goes
    /// into its `.reason.txt` when it is quarantined.
    #[error("{0}")]
    Unreadable(Reason),
    /// Reading failed (permissions, the disk); the file is tried again later.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// One row as read from the source.
pub struct Row<'r> {
    /// 1-based physical line where the row starts (the header is line 1 in CSV).
    pub line: u64,
    /// The feed's columns in canonical order; `None` when missing or blank.
    pub values: Vec<Option<&'r str>>,
    /// Set when the row cannot be used whatever its values (wrong number of cells, not a JSON
    /// object, …): the row is rejected with this reason.
    pub problem: Option<Reason>,
}

/// Streams the rows of a drop file.
pub struct RowReader {
    header: HeaderMap,
    inner: Inner,
}

enum Inner {
    Csv(CsvRows),
    Jsonl(JsonlRows),
    Xlsx(crate::workbook::XlsxRows),
}

struct CsvRows {
    reader: csv::Reader<Tail<Guard<Box<dyn Read + Send>>>>,
    /// Line breaks cut out of earlier rows (see [`Guard`]): added to the start lines of the rows
    /// after them.
    lines_cut: u64,
    /// Why the current row cannot be used as read (too long, unclosed quote).
    cut_problem: Option<Reason>,
    /// `lines_cut` before the current row (what its start line is shifted by).
    lines_cut_before: u64,
    /// The current row's quote is still open at the end of the file.
    unclosed: bool,
    /// The header cells as in the source.
    columns: Vec<String>,
    /// The current row (reused for every row). A `ByteRecord` validated as a whole: one UTF-8
    /// check per row instead of one per cell.
    record: csv::ByteRecord,
}

struct JsonlRows {
    reader: BufReader<File>,
    /// Physical lines consumed so far.
    lines_read: u64,
    /// The current line, without its line terminator (and without a leading BOM).
    raw: String,
    /// Line number of the current row.
    line: u64,
    /// One text buffer per feed column (reused), and whether the current row has it.
    slots: Vec<String>,
    present: Vec<bool>,
    /// The keys of the previous line by position, resolved: lines usually repeat them.
    keys: Vec<(String, Option<usize>)>,
    problem: Option<Reason>,
    /// The first row, parsed by `open`, not yet returned.
    pending: bool,
    /// The current line was longer than [`MAX_ROW_BYTES`]: `raw` holds its start.
    cut: bool,
}

impl RowReader {
    /// Opens the file with the detected encoding and reads its header (CSV) or prepares to read
    /// objects (JSONL). Fails with [`OpenError::Unreadable`] when there is no known column.
    pub fn open(path: &Path, feed: Feed, format: SourceFormat, encoding: TextEncoding) -> Result<RowReader, OpenError> {
        match format {
            SourceFormat::Csv => Self::open_csv(path, feed, encoding),
            SourceFormat::Jsonl => Self::open_jsonl(path, feed, encoding),
            SourceFormat::Xlsx => {
                open_regular(path)?;
                let (header, rows) = crate::workbook::open(path, feed).map_err(OpenError::Unreadable)?;
                Ok(RowReader { header, inner: Inner::Xlsx(rows) })
            }
        }
    }

    fn open_csv(path: &Path, feed: Feed, encoding: TextEncoding) -> Result<RowReader, OpenError> {
        let file = open_regular(path)?;
        let decoded: Box<dyn Read + Send> = match encoding {
            // UTF-8 (validated by `inspect`) is read as it is, without its BOM.
            TextEncoding::Utf8 { bom } => {
                let mut file = file;
                if bom {
                    let mut head = [0u8; 3];
                    file.read_exact(&mut head)?;
                }
                Box::new(file)
            }
            TextEncoding::Gb18030 => Box::new(DecodeReaderBytesBuilder::new().encoding(Some(GB18030)).build(file)),
            TextEncoding::Xlsx => return Err(OpenError::Unreadable(not_text())),
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(CSV_BUF)
            .from_reader(Tail::new(Guard::new(decoded)));
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record).map_err(csv_io_error)? {
            return Err(OpenError::Unreadable(Reason::new(
                "文件没有表头行（只有空行），请确认导出时包含列名",
                "the file has no header line (only blank lines); export it with its column names",
            )));
        }
        let Ok(whole) = std::str::from_utf8(record.as_slice()) else {
            return Err(OpenError::Unreadable(invalid_utf8_row()));
        };
        let columns: Vec<String> = (0..record.len())
            .map(|i| cell(&record, whole, i).unwrap_or_default())
            .enumerate()
            .map(|(i, c)| if i == 0 { c.trim_start_matches('\u{feff}') } else { c }.to_string())
            .collect();
        let header = HeaderMap::resolve(feed, &columns).map_err(|e| OpenError::Unreadable(e.reason()))?;
        let mut rows =
            CsvRows { reader, lines_cut: 0, cut_problem: None, lines_cut_before: 0, unclosed: false, columns, record };
        rows.take_cuts();
        if rows.cut_problem.is_some() {
            return Err(OpenError::Unreadable(Reason::new(
                format!("表头行超过 {} KB，无法读取；请检查文件格式", MAX_ROW_BYTES / 1024),
                format!(
                    "the header line is longer than {} KB and cannot be read; check the file",
                    MAX_ROW_BYTES / 1024
                ),
            )));
        }
        Ok(RowReader { header, inner: Inner::Csv(rows) })
    }

    fn open_jsonl(path: &Path, feed: Feed, encoding: TextEncoding) -> Result<RowReader, OpenError> {
        if encoding == TextEncoding::Gb18030 {
            return Err(OpenError::Unreadable(Reason::new(
                "JSONL 文件必须是 UTF-8 编码，本文件是 GBK/GB18030 编码；请另存为 UTF-8 后重新放入",
                "JSONL must be UTF-8, and this file is GBK/GB18030; save it as UTF-8 and drop it again",
            )));
        }
        let cols = feed.columns();
        // Each object names its own fields: `positions` only records which columns were seen (at
        // their own index), and `missing` stays empty (a row without a required field is caught by
        // validation, row by row).
        let mut header =
            HeaderMap { feed, positions: vec![None; cols.len()], unknown: Vec::new(), missing: Vec::new() };
        let mut rows = JsonlRows {
            reader: BufReader::with_capacity(64 * 1024, open_regular(path)?),
            lines_read: 0,
            raw: String::new(),
            line: 0,
            slots: vec![String::new(); cols.len()],
            present: vec![false; cols.len()],
            keys: Vec::new(),
            problem: None,
            pending: true,
            cut: false,
        };
        if !rows.next_line()? {
            return Err(OpenError::Unreadable(Reason::new(
                "JSONL 文件没有任何数据行（只有空行）",
                "the JSONL file holds no line with data (only blank lines)",
            )));
        }
        let line = rows.line;
        match rows.parse(&mut header) {
            Parsed::NotObject => Err(OpenError::Unreadable(Reason::new(
                format!("第 {line} 行不是 JSON 对象；JSONL 文件每行应为一个 {{…}} 对象，请检查文件格式"),
                format!("line {line} is not a JSON object; each line of a JSONL file must hold one {{…}} object"),
            ))),
            // An over-long first line is one rejected row; the next lines name the fields.
            Parsed::Object if rows.cut => Ok(RowReader { header, inner: Inner::Jsonl(rows) }),
            Parsed::Object if header.positions.iter().all(Option::is_none) => {
                let expected = expected_columns(feed);
                Err(OpenError::Unreadable(Reason::new(
                    format!("第 {line} 行没有可识别的字段（应包含如 {expected}），请检查文件是否放错目录"),
                    format!(
                        "line {line} has no known field (expected e.g. {expected}); check the file was dropped in the \
                         right folder"
                    ),
                )))
            }
            Parsed::Object => Ok(RowReader { header, inner: Inner::Jsonl(rows) }),
        }
    }

    /// The header as resolved against the feed (for JSONL: resolved from the keys seen so far).
    pub fn header(&self) -> &HeaderMap {
        &self.header
    }

    /// The header cells exactly as in the source (CSV), for the rejects file; for JSONL `["raw"]`.
    pub fn source_columns(&self) -> Vec<String> {
        match &self.inner {
            Inner::Csv(c) => c.columns.clone(),
            Inner::Jsonl(_) => vec!["raw".to_string()],
            Inner::Xlsx(x) => x.columns.clone(),
        }
    }

    /// The next row, `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>, std::io::Error> {
        match &mut self.inner {
            Inner::Csv(c) => {
                loop {
                    if !c.reader.read_byte_record(&mut c.record).map_err(csv_io_error)? {
                        return Ok(None);
                    }
                    c.take_cuts();
                    // Rows of blank cells only (e.g. Excel's trailing `,,,,`) bring nothing.
                    if !c.record.iter().all(blank) {
                        break;
                    }
                }
                let rec = &c.record;
                let line = c.start_line();
                let Ok(whole) = std::str::from_utf8(rec.as_slice()) else {
                    // Only when the file changed after `inspect`.
                    let values = vec![None; self.header.positions.len()];
                    return Ok(Some(Row { line, values, problem: Some(invalid_utf8_row()) }));
                };
                // Same as `HeaderMap::values`, without collecting the cells first.
                let values: Vec<Option<&str>> = self
                    .header
                    .positions
                    .iter()
                    .map(|p| p.and_then(|i| cell(rec, whole, i)).map(str::trim).filter(|s| !s.is_empty()))
                    .collect();
                let problem = c.cut_problem.clone().or_else(|| {
                    (rec.len() != c.columns.len()).then(|| {
                        Reason::new(
                            format!("此行有 {} 个单元格，表头有 {} 列", rec.len(), c.columns.len()),
                            format!("row has {} cells but the header has {} columns", rec.len(), c.columns.len()),
                        )
                    })
                });
                Ok(Some(Row { line, values, problem }))
            }
            Inner::Jsonl(j) => {
                if j.pending {
                    j.pending = false;
                } else {
                    if !j.next_line()? {
                        return Ok(None);
                    }
                    j.parse(&mut self.header);
                }
                let values = if j.problem.is_some() {
                    vec![None; j.slots.len()]
                } else {
                    j.slots
                        .iter()
                        .zip(&j.present)
                        .map(|(s, &p)| if p { Some(s.trim()).filter(|s| !s.is_empty()) } else { None })
                        .collect()
                };
                Ok(Some(Row { line: j.line, values, problem: j.problem.clone() }))
            }
            Inner::Xlsx(x) => {
                if !x.advance() {
                    return Ok(None);
                }
                let cells: Vec<&str> = x.cells.iter().map(String::as_str).collect();
                let values = self.header.values(&cells);
                let problem = x.problem.clone().or_else(|| {
                    (x.cells.len() > x.columns.len()).then(|| {
                        Reason::new(
                            format!("此行有 {} 个单元格，表头有 {} 列", x.cells.len(), x.columns.len()),
                            format!("row has {} cells but the header has {} columns", x.cells.len(), x.columns.len()),
                        )
                    })
                });
                Ok(Some(Row { line: x.line, values, problem }))
            }
        }
    }

    /// The current row's cells as in the source, for the rejects file (CSV: the cells; JSONL: one
    /// cell, the raw line). Control bytes are shown as their visible symbols (NUL as `␀`) so that
    /// the rejects file stays text Excel opens; the cells of a row cut at [`MAX_ROW_BYTES`] (or
    /// with a quote never closed) are shortened to [`CUT_CELL_CHARS`] characters and `…`.
    pub fn source_cells(&self) -> Vec<String> {
        match &self.inner {
            Inner::Csv(c) => {
                let cut = c.cut_problem.is_some();
                c.record.iter().map(|f| shown_cell(&String::from_utf8_lossy(f), cut)).collect()
            }
            Inner::Jsonl(j) => vec![shown_cell(&j.raw, j.cut)],
            Inner::Xlsx(x) => x.cells.iter().map(|c| shown_cell(c, false)).collect(),
        }
    }
}

fn not_text() -> Reason {
    Reason::new(
        "Excel 工作簿不是文本文件，只能按 .xlsx 读取",
        "an Excel workbook is not text: it is read as .xlsx only",
    )
}

/// The encoding to read `format` with: text formats need a text encoding; an `.xlsx` must be a
/// ZIP container (its own reader finds out whether it is a workbook).
pub fn encoding_for(inspection: &Inspection, format: SourceFormat) -> Result<TextEncoding, Reason> {
    match format {
        SourceFormat::Xlsx if inspection.size == 0 => inspection.encoding.clone(),
        SourceFormat::Xlsx if inspection.zip => Ok(TextEncoding::Xlsx),
        SourceFormat::Xlsx => Err(Reason::new(
            "扩展名是 .xlsx，但内容不是 Excel 工作簿；请用 Excel 另存为 .xlsx 或 CSV 后重新放入",
            "the name ends in .xlsx but the content is not an Excel workbook; save it from Excel as .xlsx or CSV",
        )),
        SourceFormat::Csv | SourceFormat::Jsonl => inspection.encoding.clone(),
    }
}

/// Buffer of the csv reader; [`TAIL`] must exceed it.
const CSV_BUF: usize = 64 * 1024;
/// How many of the last bytes read [`Tail`] remembers.
const TAIL: usize = 128 * 1024;

/// A reader that remembers the last [`TAIL`] bytes it delivered, by absolute offset, so that
/// the byte that ended a csv record can be looked at.
struct Tail<R> {
    inner: R,
    ring: Box<[u8]>,
    total: u64,
}

impl<R> Tail<R> {
    fn new(inner: R) -> Tail<R> {
        Tail { inner, ring: vec![0; TAIL].into_boxed_slice(), total: 0 }
    }

    /// The byte at absolute offset `off`, if still remembered.
    fn byte_at(&self, off: u64) -> Option<u8> {
        (off < self.total && self.total - off <= TAIL as u64).then(|| self.ring[(off % TAIL as u64) as usize])
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let keep = &buf[n.saturating_sub(TAIL)..n];
        let mut at = ((self.total + (n - keep.len()) as u64) % TAIL as u64) as usize;
        let mut rest = keep;
        while !rest.is_empty() {
            let k = rest.len().min(TAIL - at);
            self.ring[at..at + k].copy_from_slice(&rest[..k]);
            rest = &rest[k..];
            at = (at + k) % TAIL;
        }
        self.total += n as u64;
        Ok(n)
    }
}

impl CsvRows {
    /// The physical line where the current record starts.
    ///
    /// csv reports the line reached after the record (blank lines before it and the `\n` of a
    /// previous CRLF included): take away the line breaks inside the record's quoted fields and
    /// the `\n` that ended it, if it did.
    fn start_line(&self) -> u64 {
        let pos = self.reader.position();
        let bytes = self.record.as_slice();
        let embedded = if bytes.contains(&b'\n') { bytes.iter().filter(|&&b| b == b'\n').count() as u64 } else { 0 };
        // A record whose quote is still open at the end of the file holds its last `\n`.
        let ended_by_lf =
            !self.unclosed && pos.byte() > 0 && self.reader.get_ref().byte_at(pos.byte() - 1) == Some(b'\n');
        pos.line().saturating_sub(embedded + u64::from(ended_by_lf)).max(1) + self.lines_cut_before
    }

    /// Takes the cuts [`Guard`] made in the record just read: sets `cut_problem`, and counts the
    /// line breaks cut out for the rows after it.
    fn take_cuts(&mut self) {
        self.lines_cut_before = self.lines_cut;
        self.cut_problem = None;
        let end = self.reader.position().byte();
        let guard = &mut self.reader.get_mut().inner;
        while let Some(cut) = guard.cuts.front().copied().filter(|c| c.at <= end) {
            guard.cuts.pop_front();
            self.lines_cut += cut.lines;
            self.cut_problem = Some(too_long_row());
        }
        self.unclosed = guard.eof_in_quotes && end == guard.delivered;
        if self.unclosed {
            self.cut_problem = Some(Reason::new(
                "此行有一个引号直到文件末尾都没有配对的引号，其后的各行都被并入了此行；请补上或删除该引号后重新放入",
                "a quote in this row is never closed before the end of the file, so every line after it was read as \
                 part of this row; add the closing quote or remove the quote and drop the file again",
            ));
        }
    }
}

fn too_long_row() -> Reason {
    let kb = MAX_ROW_BYTES / 1024;
    Reason::new(
        format!("此行超过 {kb} KB，超出部分未读取；通常是某个引号没有配对，或把大段内容粘贴进了一个单元格"),
        format!(
            "the row is longer than {kb} KB and was not read beyond that; usually a quote without its closing quote, or \
             a large text pasted into one cell"
        ),
    )
}

/// The characters kept of each cell of a cut row in the rejects file: enough to find the row,
/// and a rejects file of many such rows stays small.
pub const CUT_CELL_CHARS: usize = 1000;

/// A cell for the rejects file: control bytes made visible, shortened when its row was cut.
fn shown_cell(text: &str, cut: bool) -> String {
    if cut && text.len() > CUT_CELL_CHARS {
        let end = text.char_indices().nth(CUT_CELL_CHARS).map_or(text.len(), |(i, _)| i);
        if end < text.len() {
            return visible(&text[..end]) + "…";
        }
    }
    visible(text)
}

/// Control bytes (other than tab and line breaks) as their visible symbols: NUL as `␀`.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('?'),
            '\u{7f}' => '\u{2421}',
            _ => c,
        })
        .collect()
}

/// The longest row (CSV record or JSONL line) read, in bytes. The longest valid row is a few KB
/// (see the column limits in `mz_shared::feed`); beyond this, the rest of the row is skipped
/// unread and the row rejected, so that no cell can make the reader hold gigabytes.
pub const MAX_ROW_BYTES: usize = 256 * 1024;

/// A cut [`Guard`] made: at `at` bytes delivered, `lines` line breaks skipped.
#[derive(Debug, Clone, Copy)]
struct Cut {
    at: u64,
    lines: u64,
}

/// Where the CSV parser is, as far as record boundaries go (mirrors the csv crate with its
/// default settings: `"` quotes only at the start of a field, `""` inside quotes, CR, LF or
/// CRLF end a record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted field: the end of the quotes, or the first of `""`.
    QuoteSeen,
}

impl CsvState {
    /// The state after byte `b`, and whether `b` ends the record.
    fn step(self, b: u8) -> (CsvState, bool) {
        match (self, b) {
            (CsvState::Quoted, b'"') => (CsvState::QuoteSeen, false),
            (CsvState::Quoted, _) => (CsvState::Quoted, false),
            (CsvState::QuoteSeen, b'"') => (CsvState::Quoted, false),
            (CsvState::FieldStart, b'"') => (CsvState::Quoted, false),
            (_, b',') => (CsvState::FieldStart, false),
            (_, b'\n' | b'\r') => (CsvState::FieldStart, true),
            _ => (CsvState::Unquoted, false),
        }
    }
}

/// A reader between the decoded file and the csv parser that bounds every record to
/// [`MAX_ROW_BYTES`]: past that, it skips the record's bytes up to its end (tracking quotes as
/// the parser would), closes an open quote for the parser, and records the cut. At the end of
/// the input it notes whether a quote was left open.
struct Guard<R> {
    inner: R,
    /// The longest record delivered, in bytes ([`MAX_ROW_BYTES`]; smaller in tests).
    limit: usize,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    state: CsvState,
    /// Bytes of the current record delivered so far.
    record: usize,
    /// Skipping the rest of an over-long record; line breaks skipped so far.
    skipping: Option<u64>,
    /// A closing quote to deliver before the record's end (the cut was inside quotes).
    close_quote: bool,
    cuts: std::collections::VecDeque<Cut>,
    delivered: u64,
    eof_in_quotes: bool,
}

impl<R: Read> Guard<R> {
    fn new(inner: R) -> Guard<R> {
        Guard::with_limit(inner, MAX_ROW_BYTES)
    }

    fn with_limit(inner: R, limit: usize) -> Guard<R> {
        Guard {
            inner,
            limit,
            buf: vec![0; CSV_BUF].into_boxed_slice(),
            pos: 0,
            len: 0,
            state: CsvState::FieldStart,
            record: 0,
            skipping: None,
            close_quote: false,
            cuts: std::collections::VecDeque::new(),
            delivered: 0,
            eof_in_quotes: false,
        }
    }

    /// Ends a skip: the cut is recorded, and the parser gets a closing quote if it needs one.
    fn end_skip(&mut self, lines: u64) {
        self.skipping = None;
        self.cuts.push_back(Cut { at: self.delivered, lines });
    }

    /// Skips bytes of the over-long record; stops before the byte that ends it.
    fn skip(&mut self, mut lines: u64) {
        while self.pos < self.len {
            let b = self.buf[self.pos];
            let (next, end) = self.state.step(b);
            if end {
                self.end_skip(lines);
                return;
            }
            lines += u64::from(b == b'\n');
            self.state = next;
            self.pos += 1;
        }
        self.skipping = Some(lines);
    }
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if out.is_empty() {
                return Ok(0);
            }
            if self.skipping.is_none() && self.close_quote && (self.pos < self.len || self.len == 0) {
                self.close_quote = false;
                out[0] = b'"';
                self.delivered += 1;
                return Ok(1);
            }
            if self.pos == self.len {
                self.len = self.inner.read(&mut self.buf)?;
                self.pos = 0;
                if self.len == 0 {
                    if let Some(lines) = self.skipping {
                        self.end_skip(lines);
                        if self.close_quote {
                            continue;
                        }
                    }
                    self.eof_in_quotes = self.state == CsvState::Quoted;
                    return Ok(0);
                }
            }
            if let Some(lines) = self.skipping {
                self.skip(lines);
                continue;
            }
            // Deliver up to the end of the buffer, `out`, or the cut.
            let avail = (self.len - self.pos).min(out.len());
            let mut n = 0;
            while n < avail {
                // Outside quotes only `"`, CR and LF can change more than "inside a field": jump
                // to the next of them (or to the limit), one step at a time from there.
                if matches!(self.state, CsvState::FieldStart | CsvState::Unquoted) {
                    let rest = &self.buf[self.pos + n..self.pos + avail];
                    let plain = memchr::memchr3(b'"', b'\n', b'\r', rest).unwrap_or(rest.len());
                    let jump = plain.min(self.limit.saturating_sub(self.record));
                    if jump > 0 {
                        self.state = if rest[jump - 1] == b',' { CsvState::FieldStart } else { CsvState::Unquoted };
                        self.record += jump;
                        n += jump;
                        continue;
                    }
                }
                let b = self.buf[self.pos + n];
                let (next, end) = self.state.step(b);
                if end {
                    self.record = 0;
                } else if self.record >= self.limit && b & 0xC0 != 0x80 {
                    // Cut here, at a character boundary.
                    self.close_quote = self.state == CsvState::Quoted;
                    self.skipping = Some(0);
                    break;
                } else {
                    self.record += 1;
                }
                self.state = next;
                n += 1;
            }
            out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            self.delivered += n as u64;
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

/// Cell `i` of a record whose bytes are `whole`.
fn cell<'a>(rec: &csv::ByteRecord, whole: &'a str, i: usize) -> Option<&'a str> {
    rec.range(i).and_then(|r| whole.get(r))
}

/// A cell of white space only (or empty).
fn blank(field: &[u8]) -> bool {
    match field.first() {
        None => true,
        Some(b) if b.is_ascii() && !b.is_ascii_whitespace() => false,
        Some(_) => std::str::from_utf8(field).is_ok_and(|s| s.trim().is_empty()),
    }
}

fn invalid_utf8_row() -> Reason {
    Reason::new(
        "此行含有无效的 UTF-8 字节（文件可能在读取期间被改动），请检查后重新放入",
        "the row holds invalid UTF-8 bytes (the file may have changed while it was read); check it and drop it again",
    )
}

/// `name/中文` of the feed's required columns, for "no known column" messages.
fn expected_columns(feed: Feed) -> String {
    feed.columns().iter().filter(|c| c.required).map(|c| format!("{}/{}", c.name, c.zh)).collect::<Vec<_>>().join(", ")
}

/// A csv error as an I/O error (csv errors carry the record's line, never cell contents).
fn csv_io_error(e: csv::Error) -> io::Error {
    if e.is_io_error() {
        if let csv::ErrorKind::Io(io) = e.into_kind() {
            return io;
        }
        unreachable!("is_io_error")
    }
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// The outcome of parsing one JSONL line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    /// A JSON object (maybe with a row problem: nested value, duplicate column).
    Object,
    /// Not JSON, or JSON but not an object.
    NotObject,
}

impl JsonlRows {
    /// Reads one physical line into `raw`, keeping at most [`MAX_ROW_BYTES`] of it (the rest is
    /// skipped and `cut` set). Returns the bytes consumed (0 at the end of the file).
    fn read_bounded_line(&mut self) -> io::Result<usize> {
        let mut bytes = std::mem::take(&mut self.raw).into_bytes();
        bytes.clear();
        self.cut = false;
        let mut consumed = 0;
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                break;
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let room = MAX_ROW_BYTES.saturating_sub(bytes.len());
            if take > room {
                self.cut = true;
            }
            bytes.extend_from_slice(&buf[..take.min(room)]);
            self.reader.consume(take);
            consumed += take;
            if done {
                break;
            }
        }
        self.raw = match String::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => {
                // A cut inside a character, or (only when the file changed after `inspect`)
                // invalid bytes: validation then rejects the replacement character.
                let valid = e.utf8_error().valid_up_to();
                let cut_inside_char = self.cut && e.utf8_error().error_len().is_none();
                let mut b = e.into_bytes();
                if cut_inside_char {
                    b.truncate(valid);
                    String::from_utf8(b).unwrap_or_default()
                } else {
                    String::from_utf8_lossy(&b).into_owned()
                }
            }
        };
        Ok(consumed)
    }

    /// Reads the next non-blank line into `raw`; `false` at the end of the file.
    fn next_line(&mut self) -> io::Result<bool> {
        loop {
            let n = self
                .read_bounded_line()
                .map_err(|e| io::Error::new(e.kind(), format!("line {}: {e}", self.lines_read + 1)))?;
            if n == 0 {
                return Ok(false);
            }
            self.lines_read += 1;
            if self.raw.ends_with('\n') {
                self.raw.pop();
                if self.raw.ends_with('\r') {
                    self.raw.pop();
                }
            }
            if self.lines_read == 1 && self.raw.starts_with('\u{feff}') {
                self.raw.drain(..'\u{feff}'.len_utf8());
            }
            if !self.raw.trim().is_empty() {
                self.line = self.lines_read;
                return Ok(true);
            }
        }
    }

    /// Parses `raw` into the slots, growing `header` with the keys seen; sets `problem`.
    fn parse(&mut self, header: &mut HeaderMap) -> Parsed {
        for s in &mut self.slots {
            s.clear();
        }
        self.present.fill(false);
        self.problem = None;
        if self.cut {
            self.problem = Some(too_long_row());
            return Parsed::Object;
        }
        let feed = header.feed;
        let mut nested: Option<&'static str> = None;
        let mut duplicate: Option<&'static str> = None;
        let mut de = serde_json::Deserializer::from_str(&self.raw);
        let seed = ObjectSeed {
            feed,
            slots: &mut self.slots,
            present: &mut self.present,
            keys: &mut self.keys,
            unknown: &mut header.unknown,
            nested: &mut nested,
            duplicate: &mut duplicate,
        };
        if seed.deserialize(&mut de).and_then(|()| de.end()).is_err() {
            self.present.fill(false);
            self.problem = Some(if self.raw.bytes().any(is_control_byte) {
                Reason::new(
                    "此行含有 NUL 或其他控制字符，不是有效的 JSON（JSON 文本中的控制字符须写成 \\u0000 这样的转义）；请删除后重新放入",
                    "this line holds a NUL or other control character and is not valid JSON (JSON text must escape \
                     control characters, e.g. \\u0000); remove it and drop the line again",
                )
            } else {
                Reason::new(
                    "此行不是 JSON 对象（JSONL 文件每行应为一个 {…} 对象）",
                    "this line is not a JSON object (each line of a JSONL file must hold one {…} object)",
                )
            });
            return Parsed::NotObject;
        }
        for (i, &p) in self.present.iter().enumerate() {
            if p && header.positions[i].is_none() {
                header.positions[i] = Some(i);
            }
        }
        if let Some(name) = duplicate {
            self.problem = Some(Reason::new(
                format!("字段 {name} 在此行出现两次（可能同时用了英文名和中文名），请只保留一个"),
                format!(
                    "field {name} appears twice in this line (perhaps by its English and its Chinese name); keep one"
                ),
            ));
        } else if let Some(name) = nested {
            self.problem = Some(Reason::new(
                format!("字段 {name} 的值是数组或对象，应为文本、数字或布尔值"),
                format!("field {name} holds an array or an object; it must be text, a number or a boolean"),
            ));
        }
        Parsed::Object
    }
}

/// Deserializes one JSON object straight into the column slots (no intermediate `Value`).
struct ObjectSeed<'a> {
    feed: Feed,
    slots: &'a mut [String],
    present: &'a mut [bool],
    keys: &'a mut Vec<(String, Option<usize>)>,
    unknown: &'a mut Vec<String>,
    nested: &'a mut Option<&'static str>,
    duplicate: &'a mut Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let columns = self.feed.columns();
        let mut ordinal = 0;
        while let Some(key) =
            map.next_key_seed(KeySeed { feed: self.feed, ordinal, keys: self.keys, unknown: self.unknown })?
        {
            ordinal += 1;
            let Some(i) = key else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if self.present[i] {
                self.duplicate.get_or_insert(columns[i].name);
                self.slots[i].clear();
            }
            match map.next_value_seed(ValueSeed(&mut self.slots[i]))? {
                Value::Text => self.present[i] = true,
                Value::Null => {}
                Value::Nested => {
                    self.nested.get_or_insert(columns[i].name);
                }
            }
        }
        Ok(())
    }
}

/// A key: the index of the feed column it names, or `None` (unknown keys are collected once).
struct KeySeed<'a> {
    feed: Feed,
    /// Position of the key in its object.
    ordinal: usize,
    keys: &'a mut Vec<(String, Option<usize>)>,
    unknown: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Option<usize>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Option<usize>, E> {
        if let Some((k, found)) = self.keys.get(self.ordinal) {
            if k == v {
                return Ok(*found);
            }
        }
        let found = self.feed.column_index(v);
        if let Some(slot) = self.keys.get_mut(self.ordinal) {
            *slot = (v.to_string(), found);
        } else if self.ordinal == self.keys.len() && self.ordinal < 64 {
            self.keys.push((v.to_string(), found));
        }
        if found.is_none() {
            let t = v.trim_start_matches('\u{feff}').trim();
            if !t.is_empty() && !self.unknown.iter().any(|u| u == t) {
                self.unknown.push(t.to_string());
            }
        }
        Ok(found)
    }
}

/// What a JSON value was.
enum Value {
    /// A string, number or boolean, written as text into the slot.
    Text,
    Null,
    /// An array or an object (not allowed).
    Nested,
}

/// Writes a scalar JSON value as text into the slot.
struct ValueSeed<'a>(&'a mut String);

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string, number or boolean")
    }
    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        self.0.push_str(v);
        Ok(Value::Text)
    }
    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Value, E> {
        self.0.push_str(if v { "true" } else { "false" });
        Ok(Value::Text)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Value, E> {
        let _ = write!(self.0, "{v}");
        Ok(Value::Text)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Value, E> {
        let _ = write!(self.0, "{v}");
        Ok(Value::Text)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
        let _ = write!(self.0, "{v}");
        Ok(Value::Text)
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Nested)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Nested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn file(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// All rows as (line, values, problem?) with owned values.
    #[allow(clippy::type_complexity)]
    fn rows(r: &mut RowReader) -> Vec<(u64, Vec<Option<String>>, Option<Reason>)> {
        let mut out = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            out.push((row.line, row.values.iter().map(|v| v.map(str::to_string)).collect(), row.problem));
        }
        out
    }

    fn open(p: &Path, feed: Feed) -> Result<RowReader, OpenError> {
        let enc = inspect(p).unwrap().encoding.unwrap();
        RowReader::open(p, feed, SourceFormat::of(p).unwrap(), enc)
    }

    fn unreadable(r: Result<RowReader, OpenError>) -> Reason {
        match r {
            Err(OpenError::Unreadable(reason)) => reason,
            Err(e) => panic!("io error {e}"),
            Ok(_) => panic!("opened"),
        }
    }

    #[test]
    fn formats_by_extension() {
        assert_eq!(SourceFormat::of(Path::new("a/b.CSV")), Some(SourceFormat::Csv));
        assert_eq!(SourceFormat::of(Path::new("b.JsonL")), Some(SourceFormat::Jsonl));
        assert_eq!(SourceFormat::of(Path::new("b.ndjson")), Some(SourceFormat::Jsonl));
        assert_eq!(SourceFormat::of(Path::new("b.XLSX")), Some(SourceFormat::Xlsx));
        assert_eq!(SourceFormat::of(Path::new("b.xls")), None);
        assert_eq!(SourceFormat::of(Path::new("csv")), None);
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = tempfile::tempdir().unwrap();
        let body = "record_id,site_id,reported_on,总穴位,occupied\nr1,C-SZ,2026-01-02,100,3\n";
        let plain = file(&d, "a.csv", body.as_bytes());
        let with_bom = file(&d, "b.csv", &[b"\xEF\xBB\xBF", body.as_bytes()].concat());
        let i = inspect(&plain).unwrap();
        assert_eq!(i.encoding, Ok(TextEncoding::Utf8 { bom: false }));
        assert_eq!(i.size, body.len() as u64);
        assert_eq!(i.hash, *blake3::hash(body.as_bytes()).as_bytes());
        assert_eq!(inspect(&with_bom).unwrap().encoding, Ok(TextEncoding::Utf8 { bom: true }));
        for p in [&plain, &with_bom] {
            let mut r = open(p, Feed::Burials).unwrap();
            assert_eq!(r.source_columns(), ["record_id", "site_id", "reported_on", "总穴位", "occupied"]);
            assert_eq!(r.header().positions[0], Some(0));
            let row = r.next_row().unwrap().unwrap();
            assert_eq!(row.line, 2);
            assert_eq!(r.source_cells(), ["r1", "C-SZ", "2026-01-02", "100", "3"]);
            let all = rows(&mut open(p, Feed::Burials).unwrap());
            assert_eq!(all.len(), 1);
            assert_eq!(all[0].0, 2);
            assert_eq!(
                all[0].1[..5],
                [Some("r1"), Some("C-SZ"), Some("2026-01-02"), Some("100"), Some("3")].map(|v| v.map(String::from))
            );
            assert!(all[0].2.is_none());
        }
    }

    #[test]
    fn utf8_sequences_split_across_read_buffers() {
        let d = tempfile::tempdir().unwrap();
        // Put a 3-byte character across every possible buffer boundary.
        for shift in 0..3 {
            let mut body = "record_id\n".to_string();
            body.push_str(&"a".repeat(INSPECT_BUF - body.len() - shift));
            body.push_str("中文\n");
            let p = file(&d, "split.csv", body.as_bytes());
            assert_eq!(inspect(&p).unwrap().encoding, Ok(TextEncoding::Utf8 { bom: false }), "shift {shift}");
        }
    }

    #[test]
    fn gbk_with_chinese_headers_and_crlf() {
        let d = tempfile::tempdir().unwrap();
        let text = "记录编号,墓园编码,统计日期,总穴位,已用穴位,备注\r\nr1,C-SZ,2026/01/02,100,3,宋庄镇公益性墓园\r\nr2,C-SZ,2026/01/03,100,4,\"逗号,和\r\n换行\"\r\nr3,C-SZ,2026/01/04,100,5,\r\n";
        let (bytes, _, bad) = encoding_rs::GBK.encode(text);
        assert!(!bad);
        let p = file(&d, "g.csv", &bytes);
        let i = inspect(&p).unwrap();
        assert_eq!(i.encoding, Ok(TextEncoding::Gb18030));
        let mut r = open(&p, Feed::Burials).unwrap();
        assert_eq!(r.source_columns()[0], "记录编号");
        let all = rows(&mut r);
        assert_eq!(all.iter().map(|r| r.0).collect::<Vec<_>>(), [2, 3, 5]);
        assert_eq!(all[0].1[8].as_deref(), Some("宋庄镇公益性墓园"));
        assert_eq!(all[1].1[8].as_deref(), Some("逗号,和\r\n换行"));
        assert_eq!(all[2].1[8], None);
        assert!(all.iter().all(|r| r.2.is_none()));
        // The same file in UTF-8 gives the same rows.
        let u = file(&d, "u.csv", text.as_bytes());
        assert_eq!(rows(&mut open(&u, Feed::Burials).unwrap()), all);
    }

    #[test]
    fn refused_files() {
        let d = tempfile::tempdir().unwrap();
        let empty = inspect(&file(&d, "e.csv", b"")).unwrap();
        assert_eq!(empty.size, 0);
        assert!(empty.encoding.unwrap_err().en.contains("empty file"));

        // One NUL in a row is the row's problem (validation rejects it); many make the file binary.
        let one = inspect(&file(&d, "one.csv", b"record_id\nr\x001\nr2\n")).unwrap();
        assert_eq!(one.encoding, Ok(TextEncoding::Utf8 { bom: false }));
        let nul = inspect(&file(&d, "n.csv", b"record_id\nr\x00\x00\x001\x00\n")).unwrap().encoding.unwrap_err();
        assert!(nul.en.contains("NUL") && nul.en.contains("offset 11"), "{nul}");
        assert!(nul.zh.contains("GBK"), "{nul}");
        let png = inspect(&file(&d, "p.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")).unwrap().encoding.unwrap_err();
        assert!(png.en.contains("PNG image") && png.zh.contains("PNG"), "{png}");
        let zip = inspect(&file(&d, "z.csv", b"PK\x03\x04\x14\0\0\0record_id")).unwrap().encoding.unwrap_err();
        assert!(zip.en.contains("ZIP archive"), "{zip}");
        let mut u16 = vec![0xFF, 0xFE];
        for c in "record_id\n".encode_utf16() {
            u16.extend_from_slice(&c.to_le_bytes());
        }
        assert!(inspect(&file(&d, "w.csv", &u16)).unwrap().encoding.unwrap_err().en.contains("UTF-16"));

        // 0xFF is neither UTF-8 nor GB18030; on line 3.
        let bad = inspect(&file(&d, "b.csv", b"record_id\nr1\nr2\xFF\n")).unwrap().encoding.unwrap_err();
        assert!(bad.en.contains("line 3") && bad.en.contains("byte offset 15"), "{bad}");
        // An incomplete UTF-8 sequence at the very end, valid GB lead byte but no trail.
        let trunc = inspect(&file(&d, "t.csv", b"record_id\nr\xE4")).unwrap();
        assert!(trunc.encoding.is_err(), "{:?}", trunc.encoding);
    }

    #[test]
    fn gb18030_found_late_and_bad_bytes_far_in() {
        let d = tempfile::tempdir().unwrap();
        let pad = format!("record_id,note\n{}", "r,ascii padding\n".repeat(INSPECT_BUF / 8));
        let pad_lines = pad.matches('\n').count() as u64;
        let gbk = encoding_rs::GBK.encode("r,宋庄镇\n").0.into_owned();
        // ASCII, then GBK beyond the first buffer.
        let p = file(&d, "late.csv", &[pad.as_bytes(), &gbk].concat());
        assert_eq!(inspect(&p).unwrap().encoding, Ok(TextEncoding::Gb18030));
        // Text valid in both encodings first ("中文" in UTF-8 is also valid GB18030), so the prefix
        // must be decoded again as GB18030.
        let both = "r,中文\n".as_bytes();
        let p = file(&d, "mixed.csv", &[both, pad.as_bytes(), &gbk].concat());
        assert_eq!(inspect(&p).unwrap().encoding, Ok(TextEncoding::Gb18030));
        // UTF-8 Chinese first, not valid GB18030, then GBK: neither.
        let utf8 = "r,王小明\n".as_bytes();
        let p = file(&d, "neither.csv", &[utf8, pad.as_bytes(), &gbk].concat());
        let e = inspect(&p).unwrap().encoding.unwrap_err();
        let off = utf8.len() + pad.len() + 2;
        assert!(e.en.contains(&format!("line {} (byte offset {off})", pad_lines + 2)), "{e}");
        // GBK from the start, a bad byte far in: its line and offset.
        let head = encoding_rs::GBK.encode("记录编号,备注\n").0.into_owned();
        let p = file(&d, "badgbk.csv", &[&head[..], pad.as_bytes(), b"r,\xFF\n"].concat());
        let e = inspect(&p).unwrap().encoding.unwrap_err();
        let off = head.len() + pad.len() + 2;
        assert!(e.en.contains(&format!("line {} (byte offset {off})", pad_lines + 2)), "{e}");
        // A NUL far in: that row's problem, not the file's.
        let p = file(&d, "nul.csv", &[pad.as_bytes(), b"\0"].concat());
        assert_eq!(inspect(&p).unwrap().encoding, Ok(TextEncoding::Utf8 { bom: false }));
        // Many control bytes far in: binary, named at the first one.
        let p = file(&d, "ctl.csv", &[pad.as_bytes(), &[1u8; 40_000][..]].concat());
        assert!(inspect(&p).unwrap().encoding.unwrap_err().en.contains(&format!("offset {}", pad.len())));
    }

    #[test]
    fn header_only_no_header_and_unknown_header() {
        let d = tempfile::tempdir().unwrap();
        let mut r = open(&file(&d, "h.csv", b"record_id,station_id\r\n"), Feed::Admissions).unwrap();
        assert!(r.next_row().unwrap().is_none());
        assert_eq!(r.header().missing.len(), 3);

        let none = unreadable(open(&file(&d, "blank.csv", b"\n\r\n\n"), Feed::Admissions));
        assert!(none.en.contains("no header"), "{none}");
        let unknown = unreadable(open(&file(&d, "u.csv", b"foo,bar\n1,2\n"), Feed::Marriages));
        assert!(unknown.en.contains("no known column"), "{unknown}");
        let dup = unreadable(open(
            &file(&d, "dup.csv", b"kind,\xE7\x99\xBB\xE8\xAE\xB0\xE7\xB1\xBB\xE5\x9E\x8B\n"),
            Feed::Marriages,
        ));
        assert!(dup.en.contains("twice"), "{dup}");
    }

    #[test]
    fn quoted_newlines_cell_count_and_blank_rows() {
        let d = tempfile::tempdir().unwrap();
        let body = "record_id,site_id,note\n\"r1\",C1,\"line one\nline two\"\n\nr2,C1\nr3,C1,x,extra\n,,\n  ,\nr4,\"a \"\"quoted\"\", b\",y\n";
        let p = file(&d, "q.csv", body.as_bytes());
        let mut r = open(&p, Feed::Burials).unwrap();
        let mut seen = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            let (line, record_id, problem) = (row.line, row.values[0].map(String::from), row.problem.clone());
            seen.push((line, record_id, problem, r.source_cells()));
        }
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [2, 5, 6, 9]);
        assert!(seen[0].2.is_none());
        assert_eq!(seen[0].3, ["r1", "C1", "line one\nline two"]);
        let p = seen[1].2.as_ref().unwrap();
        assert_eq!(p.zh, "此行有 2 个单元格，表头有 3 列");
        assert_eq!(p.en, "row has 2 cells but the header has 3 columns");
        assert_eq!(seen[1].1.as_deref(), Some("r2"));
        assert!(seen[2].2.as_ref().unwrap().en.contains("4 cells"));
        assert_eq!(seen[3].3, ["r4", "a \"quoted\", b", "y"]);
    }

    #[test]
    fn start_lines_over_many_buffers() {
        // Mixed LF/CRLF endings, blank lines, quoted line breaks, far beyond the csv buffer.
        let d = tempfile::tempdir().unwrap();
        let mut body = String::from("record_id,note\r\n");
        let mut line = 2u64;
        let mut expected = Vec::new();
        for i in 0..20_000u64 {
            let eol = if i % 3 == 0 { "\r\n" } else { "\n" };
            if i % 7 == 0 {
                body.push_str(eol);
                line += 1;
            }
            expected.push(line);
            let breaks = i % 4;
            let note = (0..=breaks).map(|k| format!("part {k}")).collect::<Vec<_>>().join(eol);
            body.push_str(&format!("r{i},\"{note} {}\"{eol}", "x".repeat((i % 50) as usize)));
            line += 1 + breaks;
        }
        body.push_str("last,no newline at the end");
        expected.push(line);
        let p = file(&d, "many.csv", body.as_bytes());
        let got: Vec<u64> = rows(&mut open(&p, Feed::Burials).unwrap()).iter().map(|r| r.0).collect();
        assert_eq!(got.len(), expected.len());
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g, e, "row {i}");
        }
    }

    #[test]
    fn over_long_rows_are_cut_and_lines_stay_right() {
        let d = tempfile::tempdir().unwrap();
        let big = "界".repeat(MAX_ROW_BYTES); // 3 bytes each: three times the limit
        for (name, cell) in [
            ("unquoted", big.clone()),
            ("quoted", format!("\"{big}\nwith, a \"\" quote\n\"")),
            ("quoted-cut-at-quote", format!("\"{}\"\"{}\"", "a".repeat(MAX_ROW_BYTES - 4), "b".repeat(10))),
        ] {
            let body = format!("record_id,note\r\nr1,ok\r\nr2,{cell}\r\nr3,after\r\nr4,\"two\nlines\"\nr5,end");
            let p = file(&d, &format!("{name}.csv"), body.as_bytes());
            let mut r = open(&p, Feed::Burials).unwrap();
            let mut seen = Vec::new();
            while let Some(row) = r.next_row().unwrap() {
                let (line, id, problem) = (row.line, row.values[0].map(String::from), row.problem.clone());
                let cells = r.source_cells();
                assert!(cells.iter().all(|c| c.chars().count() <= CUT_CELL_CHARS + 1), "{name}");
                seen.push((line, id, problem.map(|p| p.en)));
            }
            let embedded = cell.matches('\n').count() as u64;
            let want_lines = [2, 3, 4 + embedded, 5 + embedded, 7 + embedded];
            assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), want_lines, "{name}: {seen:?}");
            assert_eq!(seen.iter().map(|s| s.1.clone().unwrap()).collect::<Vec<_>>(), ["r1", "r2", "r3", "r4", "r5"]);
            assert!(seen[1].2.as_deref().unwrap().contains("longer than 256 KB"), "{name}: {:?}", seen[1].2);
            assert!(seen.iter().enumerate().all(|(i, s)| i == 1 || s.2.is_none()), "{name}: {seen:?}");
        }
    }

    /// Random CSV-like bytes whose records all fit pass through the guard unchanged.
    #[test]
    fn guard_passes_rows_that_fit_unchanged() {
        let alphabet: [&[u8]; 8] = [b"a", b"b", b",", b"\"", b"\n", b"\r", "中".as_bytes(), b" "];
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.usize(0..200) {
                bytes.extend_from_slice(alphabet[rng.usize(0..alphabet.len())]);
            }
            let read = |r: &mut dyn Read| {
                let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(r);
                let mut rec = csv::ByteRecord::new();
                let mut out = Vec::new();
                while rdr.read_byte_record(&mut rec).unwrap() {
                    out.push((rec.iter().map(<[u8]>::to_vec).collect::<Vec<_>>(), rdr.position().line()));
                }
                out
            };
            let mut guard = Guard::new(&bytes[..]);
            assert_eq!(read(&mut &bytes[..]), read(&mut guard), "{:?}", String::from_utf8_lossy(&bytes));
            assert!(guard.cuts.is_empty());
        }
    }

    /// With a small limit: every record of the input is still one record (the guard finds record
    /// ends as the parser does), none is longer than the limit, and lines add up.
    #[test]
    fn guard_cuts_records_but_keeps_their_count_and_lines() {
        let alphabet: [&[u8]; 8] = [b"a", b"b", b",", b"\"", b"\n", b"\r", "中".as_bytes(), b"\"\""];
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..3000 {
            let mut bytes = Vec::new();
            for _ in 0..rng.usize(0..120) {
                bytes.extend_from_slice(alphabet[rng.usize(0..alphabet.len())]);
            }
            let shown = String::from_utf8_lossy(&bytes).into_owned();
            let count = |r: &mut dyn Read| {
                let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(r);
                let mut rec = csv::ByteRecord::new();
                let (mut n, mut longest) = (0, 0);
                while rdr.read_byte_record(&mut rec).unwrap() {
                    n += 1;
                    longest = longest.max(rec.as_slice().len());
                }
                (n, longest, rdr.position().line())
            };
            let (n, _, lines) = count(&mut &bytes[..]);
            let mut guard = Guard::with_limit(&bytes[..], 8);
            let (gn, longest, glines) = count(&mut guard);
            assert_eq!(gn, n, "{shown:?}");
            assert!(longest <= 8 + 3, "{longest} {shown:?}");
            let cut_lines: u64 = guard.cuts.iter().map(|c| c.lines).sum();
            // An injected closing quote at the very end may add no line; a cut never loses one.
            assert_eq!(glines + cut_lines, lines, "{shown:?}");
        }
    }

    #[test]
    fn unclosed_quote_is_named() {
        let d = tempfile::tempdir().unwrap();
        let p = file(&d, "q.csv", b"record_id,note\nr1,ok\nr2,\"open\nr3,lost\nr4,lost\n");
        let all = rows(&mut open(&p, Feed::Burials).unwrap());
        assert_eq!(all.len(), 2);
        assert!(all[0].2.is_none());
        assert_eq!(all[1].0, 3);
        assert!(all[1].2.as_ref().unwrap().en.contains("never closed"), "{:?}", all[1].2);
        // A closed quote is fine, and a quote inside an unquoted cell is a character.
        let p = file(&d, "ok.csv", b"record_id,note\nr1,\"a\nb\"\nr2,5\" pipe\n");
        assert!(rows(&mut open(&p, Feed::Burials).unwrap()).iter().all(|r| r.2.is_none()));
    }

    #[test]
    fn over_long_jsonl_line_and_control_characters() {
        let d = tempfile::tempdir().unwrap();
        let big = "界".repeat(MAX_ROW_BYTES);
        let body = format!(
            "{{\"record_id\":\"r0\",\"note\":\"{big}\"}}\n{{\"record_id\":\"r1\"}}\n{{\"record_id\":\"r\x002\"}}\n{{\"record_id\":\"r\\u00003\"}}\n"
        );
        let p = file(&d, "j.jsonl", body.as_bytes());
        let mut r = open(&p, Feed::Burials).unwrap();
        let mut seen = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            let (line, id, problem) = (row.line, row.values[0].map(String::from), row.problem.clone());
            assert!(r.source_cells()[0].chars().count() <= CUT_CELL_CHARS + 1);
            seen.push((line, id, problem.map(|p| p.en)));
        }
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3, 4]);
        assert!(seen[0].2.as_deref().unwrap().contains("longer than 256 KB"));
        assert_eq!(seen[1].1.as_deref(), Some("r1"));
        assert!(seen[2].2.as_deref().unwrap().contains("control character"), "{seen:?}");
        // An escaped NUL is valid JSON: the value holds it, for validation to reject.
        assert_eq!((seen[3].1.as_deref(), seen[3].2.as_deref()), (Some("r\u{0}3"), None));
    }

    #[test]
    #[allow(unsafe_code)]
    fn non_regular_files_are_refused_without_blocking() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("x.csv");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = inspect(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        assert!(inspect(d.path()).unwrap_err().to_string().contains("directory"));
        assert!(inspect(Path::new("/dev/zero")).unwrap_err().to_string().contains("device"));
    }

    #[test]
    fn values_match_header_map() {
        let d = tempfile::tempdir().unwrap();
        let p = file(&d, "m.csv", "备注,record_id,x,site_id\n  note ,r1,, C1 \n".as_bytes());
        let mut r = open(&p, Feed::Burials).unwrap();
        let header = r.header().clone();
        let row = r.next_row().unwrap().unwrap();
        let values: Vec<Option<String>> = row.values.iter().map(|v| v.map(String::from)).collect();
        let cells = ["  note ", "r1", "", " C1 "];
        let expected: Vec<Option<String>> = header.values(&cells).iter().map(|v| v.map(String::from)).collect();
        assert_eq!(values, expected);
        assert_eq!(header.unknown, ["x"]);
    }

    #[test]
    fn jsonl_rows() {
        let d = tempfile::tempdir().unwrap();
        let body = concat!(
            "\u{feff}{\"record_id\":\"r1\",\"总穴位\":100,\"occupied\":3.5,\"site_id\":\"C\\u0031\",\"extra\":[1]}\r\n",
            "\n",
            "   \n",
            "{\"record_id\":\"r2\",\"note\":true,\"site_id\":null,\"other\":{\"a\":1}}\n",
            "not json\n",
            "[1,2]\n",
            "{\"record_id\":\"r3\",\"note\":[1]}\n",
            "{\"record_id\":\"r4\",\"记录编号\":\"r4\"}\n",
            "{\"record_id\":\"r5\"} trailing\n",
            "{\"record_id\":-7,\"reported_on\":\"2026-01-02\"}",
        );
        let p = file(&d, "j.jsonl", body.as_bytes());
        let mut r = open(&p, Feed::Burials).unwrap();
        assert_eq!(r.source_columns(), ["raw"]);
        assert!(r.header().missing.is_empty(), "reported_on is absent from line 1 only");
        let mut seen = Vec::new();
        while let Some(row) = r.next_row().unwrap() {
            let v: Vec<Option<String>> = row.values.iter().map(|v| v.map(String::from)).collect();
            let (line, problem) = (row.line, row.problem.clone());
            seen.push((line, v, problem, r.source_cells()));
        }
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 4, 5, 6, 7, 8, 9, 10]);
        let v = &seen[0].1;
        assert_eq!(
            (v[0].as_deref(), v[1].as_deref(), v[3].as_deref(), v[4].as_deref()),
            (Some("r1"), Some("C1"), Some("100"), Some("3.5"))
        );
        assert!(seen[0].2.is_none(), "unknown keys may hold anything");
        assert!(seen[0].3[0].starts_with("{\"record_id\"") && !seen[0].3[0].ends_with('\r'));
        assert_eq!(
            (seen[1].1[0].as_deref(), seen[1].1[1].as_deref(), seen[1].1[8].as_deref()),
            (Some("r2"), None, Some("true"))
        );
        assert!(seen[1].2.is_none());
        for i in [2, 3, 6] {
            assert!(seen[i].2.as_ref().unwrap().en.contains("not a JSON object"), "{i}");
            assert!(seen[i].1.iter().all(Option::is_none));
        }
        assert_eq!(seen[2].3, ["not json"]);
        assert!(seen[4].2.as_ref().unwrap().en.contains("note holds an array"));
        assert!(seen[5].2.as_ref().unwrap().en.contains("record_id appears twice"));
        assert_eq!(seen[7].1[0].as_deref(), Some("-7"));
        let h = r.header();
        assert_eq!(h.unknown, ["extra", "other"]);
        assert_eq!(h.positions[2], Some(2), "reported_on seen on the last line");
        assert_eq!(h.positions[5], None, "new_interments never seen");
        assert!(h.missing.is_empty(), "{:?}", h.missing);
    }

    #[test]
    fn jsonl_refused() {
        let d = tempfile::tempdir().unwrap();
        let e = unreadable(open(&file(&d, "a.jsonl", b"\n\n{\"foo\":1}\n{\"record_id\":\"r\"}\n"), Feed::Admissions));
        assert!(e.en.contains("line 3 has no known field"), "{e}");
        let e = unreadable(open(&file(&d, "b.ndjson", b"record_id,x\n"), Feed::Admissions));
        assert!(e.en.contains("line 1 is not a JSON object"), "{e}");
        let e = unreadable(open(&file(&d, "c.jsonl", b"\n \n"), Feed::Admissions));
        assert!(e.en.contains("no line"), "{e}");
        let (gbk, _, _) = encoding_rs::GBK.encode("{\"记录编号\":\"甲\"}\n");
        let p = file(&d, "g.jsonl", &gbk);
        assert_eq!(inspect(&p).unwrap().encoding, Ok(TextEncoding::Gb18030));
        let e = unreadable(open(&p, Feed::Admissions));
        assert!(e.en.contains("JSONL must be UTF-8"), "{e}");
    }

    /// CPU time of this thread so far, in ns (wall time means little on a busy shared machine).
    fn cpu_ns() -> u64 {
        let s = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
        s.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// Reader CPU time on 1,000,000 rows (3 runs each: take the best on a busy machine); run with
    /// `cargo test --release -p mzd --lib source::tests::million -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn million_rows() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.csv");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
        writeln!(w, "record_id,station_id,event,occurred_at,person_ref,name,id_number,gender,age,origin,referral,flags,bed,discharge_reason,incident_type,note").unwrap();
        for i in 0..1_000_000u32 {
            writeln!(w, "R{i:08},TZ-JZZ,admit,2026-01-02 10:{:02},P{i},张三,110105199001011234,male,36,河北省保定市,police,elderly,B{},,,\"备注, {i}\"", i % 60, i % 50).unwrap();
        }
        drop(w);
        for _ in 0..3 {
            let t = cpu_ns();
            let i = inspect(&p).unwrap();
            let t_inspect = std::time::Duration::from_nanos(cpu_ns() - t);
            let t = cpu_ns();
            let mut r = RowReader::open(&p, Feed::Admissions, SourceFormat::Csv, i.encoding.unwrap()).unwrap();
            let mut n = 0u64;
            while let Some(row) = r.next_row().unwrap() {
                n += row.values.len() as u64;
            }
            let t_rows = std::time::Duration::from_nanos(cpu_ns() - t);
            eprintln!("{} MB: inspect {t_inspect:?}, rows {t_rows:?} ({n})", i.size / 1_000_000);
        }

        for _ in 0..3 {
            let t = cpu_ns();
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_path(&p).unwrap();
            let mut rec = csv::ByteRecord::new();
            let mut n = 0;
            while rdr.read_byte_record(&mut rec).unwrap() {
                n += rec.len();
            }
            eprintln!("csv alone {:?} ({n})", std::time::Duration::from_nanos(cpu_ns() - t));
        }
        let pj = d.path().join("big.jsonl");
        let mut w = std::io::BufWriter::new(std::fs::File::create(&pj).unwrap());
        for i in 0..1_000_000u32 {
            writeln!(w, "{{\"record_id\":\"R{i:08}\",\"station_id\":\"TZ-JZZ\",\"event\":\"admit\",\"occurred_at\":\"2026-01-02 10:00\",\"person_ref\":\"P{i}\",\"name\":\"张三\",\"age\":36,\"note\":\"备注\"}}").unwrap();
        }
        drop(w);
        for _ in 0..3 {
            let t = cpu_ns();
            let mut r =
                RowReader::open(&pj, Feed::Admissions, SourceFormat::Jsonl, TextEncoding::Utf8 { bom: false }).unwrap();
            while r.next_row().unwrap().is_some() {}
            eprintln!("jsonl rows {:?}", std::time::Duration::from_nanos(cpu_ns() - t));
        }
    }
}
