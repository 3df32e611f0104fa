"""Read an uploaded spreadsheet (CSV, XLSX, XLS, ODS) into its headers and a stream of rows."""
from __future__ import annotations

import codecs
import csv
import datetime
import io
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import python_calamine

from app.importer.issues import FileRejected
from app.text import without_unsafe

MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_MIN_BYTES = 1024 * 1024
MAX_ZIP_MEMBERS = 1000
BINARY_SAMPLE_CHARS = 65536

ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
KNOWN_BINARIES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
    b"\x1f\x8b": "a compressed archive",
    b"Rar!": "a compressed archive",
    b"7z\xbc\xaf": "a compressed archive",
}

SAVE_AS_HINT = "Upload a .csv or .xlsx file (Excel: File > Save As > CSV UTF-8 or Excel Workbook)."
EMPTY = "The file is empty. " + SAVE_AS_HINT
DAMAGED = (
    "The workbook is damaged or unsafe to open. Open it in Excel, save it again as an "
    "Excel Workbook (.xlsx) or CSV UTF-8, and upload that file."
)
NO_HEADER = (
    "The first row must hold the column headers (for example First Name, Last Name, "
    "Date of Birth), with one participant per row below it."
)
HEADER_ONLY = "The file has column headers but no participant rows. Add one participant per row below the headers."
NO_DATA_SHEET = (
    "The workbook has no sheet with participants. Put them on a sheet named Patients, "
    "or on the first sheet."
)
CANNOT_READ_WORKBOOK = (
    "Roster cannot read this workbook. If it is password-protected, remove the password; then save it "
    "as an Excel Workbook (.xlsx) or CSV UTF-8 (Excel: File > Save As) and upload that file."
)

DATE_LIKE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}")
# C0 controls other than tab/CR/LF, and C1 controls (what Latin-1 makes of binary bytes).
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """A cell's text as Roster keeps it: trimmed, in Unicode NFC (so "José" typed on a Mac and on
    Windows is one name), its line breaks written "\n" (as XLSX reads them back)."""
    text = text.strip()
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text).strip()
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def unguarded(text: str) -> str:
    """A CSV cell without the leading apostrophe the CSV issue report puts before a cell a spreadsheet
    would run as a formula (report.neutralise), so a report fixed and uploaded again gives the values."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_FIRST else text


FORMULA_FIRST = ("=", "+", "-", "@", "'")  # what a guard stands before (an apostrophe: a guarded guard)


@dataclass
class Sheet:
    """The participant sheet of a file: trimmed headers and lazily read (row number, cells) pairs."""

    headers: list[str]
    rows: Iterator[tuple[int, list]]
    format: str
    row_estimate: int | None = None  # rows below the header, as far as known before reading them


Pieces = Callable[[], Iterable[bytes]]  # a file a piece at a time, from its start on each call


def read_spreadsheet(data: bytes, filename: str, *, max_rows: int = 100_000) -> Sheet:
    """Read the participant sheet of an upload, raising FileRejected if it is not a readable spreadsheet."""
    return read_pieces(lambda: (data,), filename, max_rows=max_rows)


def read_pieces(pieces: Pieces, filename: str, *, max_rows: int = 100_000) -> Sheet:
    """read_spreadsheet for a file read a piece at a time (storage.FileStore.pieces): delimited text is
    read so, and never held whole; a workbook is joined first (a zip is read from its end)."""
    # The format comes from the content: users rename files, and exports lie about their type. The head
    # is read once, for the signatures, the byte order mark and the binary check (a stored file's first
    # segment decrypted once, not for each).
    start = _start(pieces(), BINARY_SAMPLE_CHARS * 4)
    if start.startswith((ZIP_MAGIC, OLE2_MAGIC)):
        data = b"".join(pieces())
        return read_zip_workbook(data, max_rows) if start.startswith(ZIP_MAGIC) else read_with_calamine(data, "xls", max_rows)
    # Not data.strip(): that copies the whole file. Past a head that is all blank, every piece is looked at.
    if (not start or start.isspace()) and all(not piece or piece.isspace() for piece in pieces()):
        raise FileRejected(EMPTY)
    refuse_known_binary(start)
    return read_csv(pieces, start, max_rows)


def _start(pieces: Iterable[bytes], size: int) -> bytes:
    """The file's first `size` bytes (fewer if it is shorter)."""
    start = b""
    for piece in pieces:
        start += piece[:size - len(start)]
        if len(start) >= size:
            break
    return start


XLSX_BYTES_PER_ROW = 400  # sheet XML per row of about 15 cells; only decides where the work runs


def estimate_rows(data: bytes) -> int:
    """About how many rows a file has, without reading it: decides whether a worker reads it."""
    if data.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                sheets = sum(m.file_size for m in archive.infolist() if m.filename.startswith(("xl/worksheets/", "content.xml")))
        except Exception:
            return 0
        return sheets // XLSX_BYTES_PER_ROW
    if data.startswith(OLE2_MAGIC):
        return len(data) // 100
    return max(data.count(b"\n"), data.count(b"\r")) - 1


def not_a_spreadsheet(kind: str | None = None) -> FileRejected:
    """Say what the file looks like, if known, and what Roster needs instead."""
    looks_like = f"{kind}, not " if kind else "not "
    return FileRejected(f"This file is {looks_like}a spreadsheet Roster can read. {SAVE_AS_HINT}")


def refuse_known_binary(data: bytes) -> None:
    """Refuse common non-spreadsheet files by their signature, whatever their name."""
    for magic, kind in KNOWN_BINARIES.items():
        if data.startswith(magic):
            raise not_a_spreadsheet(kind)


# --- rows shared by every format -------------------------------------------------------------


def build_sheet(header_cells: Iterable, data_rows: Iterator[list], file_format: str, max_rows: int,
                row_estimate: int | None = None) -> Sheet:
    """Check the header row and that at least one participant row follows it."""
    headers = [to_cell(value) for value in header_cells]
    # Headers are only named, never imported: their unsafe characters simply go (app/text.py).
    headers = [h.isoformat() if isinstance(h, datetime.date) else without_unsafe(h)[0] for h in headers]
    while headers and not headers[-1]:
        headers.pop()
    # A first row with no letters at all is data, not headers (e.g. "00123,1980-02-01"); so is one with an
    # email address or a date in it (a list exported without its header row): its cells are not stored.
    if not any(char.isalpha() for header in headers for char in header) or any(
            "@" in header or DATE_LIKE.fullmatch(header) for header in headers):
        raise FileRejected(NO_HEADER)
    rows = number_rows(data_rows, len(headers), max_rows)
    first = next(rows, None)
    if first is None:
        raise FileRejected(HEADER_ONLY)
    return Sheet(headers=headers, rows=itertools.chain([first], rows), format=file_format,
                 row_estimate=min(row_estimate, max_rows) if row_estimate else None)


def number_rows(data_rows: Iterator[list], width: int, max_rows: int) -> Iterator[tuple[int, list]]:
    """Yield (row number, cells) fitted to the header width, holding back blank rows until data follows."""
    # Blank rows are only counted, not stored: a sheet can have a million empty styled rows.
    pending_blanks = 0
    for row_number, cells in enumerate(data_rows, start=2):
        cells = fit_to_width(cells, width)
        if not any(cells):
            pending_blanks += 1
            continue
        if row_number - 1 > max_rows:
            raise FileRejected(
                f"The file has more than {max_rows:,} rows. Split it into files of at most "
                f"{max_rows:,} rows and upload each one."
            )
        for blank_number in range(row_number - pending_blanks, row_number):
            yield blank_number, [""] * width
        pending_blanks = 0
        yield row_number, cells


def fit_to_width(cells: list, width: int) -> list:
    """Pad a row with blanks, or cut cells beyond the last header, so it matches the headers."""
    if len(cells) == width:
        return cells if cells.__class__ is list else list(cells)
    if len(cells) > width:
        return list(cells[:width])
    return list(cells) + [""] * (width - len(cells))


def to_cell(value) -> str | datetime.date:
    """Turn a spreadsheet value into a trimmed string, or a date for a real date cell."""
    if value.__class__ is str:  # most cells: asked first, before the checks for the other types
        return clean_text(value)
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_number(value)
    return clean_text(str(value))


def format_number(value: float) -> str:
    """Show a number as Excel's General format would, without ".0" or scientific notation."""
    # Identifiers such as 12345 or a phone number are often stored as floats; they must not gain ".0".
    if value != value or value in (float("inf"), float("-inf")):
        return ""
    if value.is_integer():
        return str(int(value))
    # Excel shows 15 significant digits, so 0.1 + 0.2 reads as 0.3 there and here.
    return format(Decimal(format(value, ".15g")), "f")


# --- CSV / TSV / TXT -----------------------------------------------------------------------


def read_csv(pieces: Pieces, start: bytes, max_rows: int) -> Sheet:
    """Read delimited text, streaming records with the stdlib csv module (`start`: the file's first
    BINARY_SAMPLE_CHARS * 4 bytes, or all of a shorter one)."""
    # text_encoding reads every piece to the end: a stored file's SHA-256 is checked there (FileStore.pieces),
    # before any row of it is read.
    encoding, line_ends = text_encoding(pieces, start)
    # On decoded text, so a byte order mark or UTF-16 does not hide it (Excel's "Web Page" .xls).
    sample = _decoded_start(start, encoding)
    if sample.lstrip()[:1] == "<":
        raise FileRejected("This file is a web page or XML file, not a spreadsheet Roster can read (Excel can "
                           'save a web page as ".xls": open it in Excel and save it as Excel Workbook). '
                           + SAVE_AS_HINT)
    refuse_binary_text(sample)
    # Decoded as it is read, a few kB at a time: never the whole file as text beside its bytes. With
    # newline="" a line keeps its ending (CRLF, LF or a bare CR), which csv needs for newlines inside quotes.
    lines = io.TextIOWrapper(io.BufferedReader(_PieceStream(pieces())), encoding=encoding, newline="")
    first_line = next(lines, "")
    # One record per spreadsheet row, even when a quoted field spans several lines.
    records = parse_records(csv.reader(itertools.chain([first_line], lines), delimiter=sniff_delimiter(first_line)))
    header = next(records, [])
    # Most cells are printable ASCII: strip them here, and only the others go through clean_text.
    data_rows = ([text if (text := cell.strip()).isascii() and text.isprintable() and text[:1] != "'"
                  else unguarded(clean_text(text)) for cell in record] for record in records)
    return build_sheet(header, data_rows, "csv", max_rows, row_estimate=max(line_ends - 1, 1))


DECODE_PIECE = 1 << 18  # bytes decoded at a time to check an encoding


class _PieceStream(io.RawIOBase):
    """The pieces as one stream, for io.BufferedReader: a piece is held only until it is read."""

    def __init__(self, pieces: Iterable[bytes]):
        self.pieces = iter(pieces)
        self.piece = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.piece:
            piece = next(self.pieces, None)
            if piece is None:
                return 0
            self.piece = memoryview(piece)
        size = min(len(buffer), len(self.piece))
        buffer[:size] = self.piece[:size]
        self.piece = self.piece[size:]
        return size


def text_encoding(pieces: Pieces, start: bytes) -> tuple[str, int]:
    """The encoding Excel saves text in that decodes the file (UTF-8, BOM or not; UTF-16 with BOM; else
    Windows-1252; Latin-1 decodes any bytes, and the control-character check then catches binary files),
    and how many lines the text has (its LFs, else its bare CRs): a pass over the pieces per encoding tried."""
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if (line_ends := _line_ends(pieces(), "utf-16")) is None:
            raise not_a_spreadsheet()
        return "utf-16", line_ends
    for encoding in ("utf-8-sig", "cp1252"):
        if (line_ends := _line_ends(pieces(), encoding)) is not None:
            return encoding, line_ends
    return "latin-1", _line_ends(pieces(), "latin-1")  # decodes any bytes


def _line_ends(pieces: Iterable[bytes], encoding: str) -> int | None:
    """The text's LFs (else its CRs) if the bytes decode, DECODE_PIECE bytes at a time, keeping none of
    the text; else None."""
    decoder = codecs.getincrementaldecoder(encoding)()
    feeds = returns = 0
    try:
        for piece in itertools.chain(pieces, [b""]):  # the last, empty, piece is final
            view = memoryview(piece)
            for start in range(0, max(len(view), 1), DECODE_PIECE):
                text = decoder.decode(view[start:start + DECODE_PIECE], final=not view)
                feeds += text.count("\n")
                returns += text.count("\r")
    except UnicodeDecodeError:
        return None
    return feeds or returns


def _decoded_start(data: bytes, encoding: str) -> str:
    """The first BINARY_SAMPLE_CHARS characters of the text."""
    return codecs.getincrementaldecoder(encoding)().decode(data[:BINARY_SAMPLE_CHARS * 4])[:BINARY_SAMPLE_CHARS]


def refuse_binary_text(sample: str) -> None:
    """Refuse decoded text that is really binary: text files have no NULs and few control characters."""
    # A few are tolerated: old DOS tools end files with Ctrl-Z, and stray ones appear in pasted notes.
    if "\x00" in sample or len(CONTROL_CHARS.findall(sample)) > max(3, len(sample) // 100):
        raise not_a_spreadsheet()


def sniff_delimiter(header_line: str) -> str:
    """Pick comma, semicolon, tab or pipe (EHR exports): whichever splits the header line into the most columns."""
    # csv.Sniffer guesses wrong on short files; the header line alone is a steadier signal.
    def column_count(delimiter: str) -> int:
        return len(next(csv.reader([header_line], delimiter=delimiter), []))

    return max([",", ";", "\t", "|"], key=column_count)


def parse_records(records: Iterator[list[str]]) -> Iterator[list[str]]:
    """Yield CSV records, turning a parse error into a message with the row number."""
    for row_number in itertools.count(1):
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error:
            raise FileRejected(f"Row {row_number} of the file could not be read as CSV. {SAVE_AS_HINT}") from None
        yield record


# --- XLSX and ODS (zip containers) ---------------------------------------------------------


def read_zip_workbook(data: bytes, max_rows: int) -> Sheet:
    """Check a zip container is safe, then read it as XLSX or ODS."""
    names = safe_zip_names(data)
    if "xl/workbook.xml" in names:
        return read_xlsx(data, max_rows)
    if "mimetype" in names and read_zip_member(data, "mimetype").strip() == ODS_MIMETYPE:
        check_zip_members(data)  # as for XLSX: calamine sees only members already inflated and checked
        return read_with_calamine(data, "ods", max_rows)
    if "xl/workbook.bin" in names:
        raise FileRejected(CANNOT_READ_WORKBOOK)
    raise not_a_spreadsheet("a zip archive or a document")


def safe_zip_names(data: bytes) -> set[str]:
    """Return the member names of a zip, refusing zip bombs by their declared sizes before any unpacking."""
    # zipfile never inflates a member past its declared size, so checking declared sizes is enough
    # for what zipfile inflates; check_zip_members inflates an XLSX that way before calamine reads it.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except Exception:
        raise FileRejected(DAMAGED) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise FileRejected(DAMAGED)
    if sum(member.file_size for member in members) > MAX_UNCOMPRESSED_BYTES:
        raise FileRejected(DAMAGED)
    for member in members:
        too_compressed = member.file_size > MAX_COMPRESSION_RATIO * max(member.compress_size, 1)
        if member.file_size > RATIO_CHECK_MIN_BYTES and too_compressed:
            raise FileRejected(DAMAGED)
    return {member.filename for member in members}


def read_zip_member(data: bytes, name: str) -> bytes:
    """Read one small member of an already checked zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(name)
    except Exception:
        raise FileRejected(DAMAGED) from None


def choose_sheet(names: list[str]) -> int:
    """Pick the sheet named Patients, else the first one that is not Instructions."""
    folded = [name.strip().casefold() for name in names]
    if "patients" in folded:
        return folded.index("patients")
    for index, name in enumerate(folded):
        if name != "instructions":
            return index
    raise FileRejected(NO_DATA_SHEET)


def read_xlsx(data: bytes, max_rows: int) -> Sheet:
    """Read an XLSX with python-calamine, once every member of the zip has been checked."""
    # For 100,000 x 15 cells: openpyxl read-only streaming 22.0 s / 64 MB, tablib (openpyxl building a
    # whole Dataset) 27.8 s / 139 MB, calamine ~1.5 s / ~160 MB for the whole sheet in Rust. calamine's
    # own zip and XML parsers are not the ones the size checks above reason about, so check_zip_members
    # (for ODS too) first inflates every member through zipfile (bounded by the declared sizes, CRC-checked) and refuses
    # any DTD: calamine then only ever sees members of known, limited size without entity declarations.
    check_zip_members(data)
    return read_with_calamine(data, "xlsx", max_rows)


XML_CHUNK = 1024 * 1024


def check_zip_members(data: bytes) -> None:
    """Inflate every member through zipfile and refuse DTDs (entity expansion, external entities)."""
    # zipfile stops each member at its declared size and checks its CRC, so a member that inflates to
    # more than it declares (a zip bomb that lies) fails here, before any other parser sees it.
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                is_xml = member.filename.endswith((".xml", ".rels"))
                with archive.open(member) as stream:
                    tail = b""
                    while chunk := stream.read(XML_CHUNK):
                        # Excel and LibreOffice write their parts in UTF-8 without a DTD. UTF-8 XML has
                        # no NUL byte, so a NUL means UTF-16 or UTF-32 (BOM or not), where a byte search
                        # for "<!DOCTYPE" would not see one: such a part is refused too.
                        if is_xml and (b"<!DOCTYPE" in tail + chunk or b"\x00" in chunk):
                            raise FileRejected(DAMAGED)
                        tail = chunk[-16:]
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(DAMAGED) from None


# --- XLS and ODS through calamine ----------------------------------------------------------


def read_with_calamine(data: bytes, file_format: str, max_rows: int) -> Sheet:
    """Read an .xlsx, .xls or .ods workbook with python-calamine (zips checked by the caller)."""
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        calamine_sheet = workbook.get_sheet_by_index(choose_sheet(workbook.sheet_names))
        rows = iter(calamine_rows(calamine_sheet))
        header = next(rows, [])
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(CANNOT_READ_WORKBOOK if file_format == "xls" else DAMAGED) from None
    width = len(header)
    data_rows = guarded_rows(([to_cell(value) for value in values[:width]] for values in rows), file_format)
    return build_sheet(header, data_rows, file_format, max_rows, row_estimate=max(calamine_sheet.height - 1, 1))


def calamine_rows(calamine_sheet) -> Iterator[list]:
    """Yield rows from column A, as Excel numbers them."""
    # python-calamine 0.9's iter_rows starts at row 1 but at the first used column; put back the
    # columns left of it so cells stay under their headers (tests/files/offset.ods checks this).
    first_column = (calamine_sheet.start or (0, 0))[1]
    for values in calamine_sheet.iter_rows():
        yield [None] * first_column + list(values)


def guarded_rows(rows: Iterator[list], file_format: str) -> Iterator[list]:
    """Pass rows through, turning any library error while reading into FileRejected."""
    try:
        yield from rows
    except FileRejected:
        raise
    except Exception:
        raise FileRejected(DAMAGED if file_format == "ods" else CANNOT_READ_WORKBOOK) from None
