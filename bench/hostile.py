"""Hostile files built on the fly (issue 18): small uploads that expand into a great deal of work.

Shared by ``tests/test_security_hostile_input.py`` and ``bench/bench_fuzz.py``; nothing here is
committed as a file.  Each builder returns the file's bytes.
"""

from __future__ import annotations

import io
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
)
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _xlsx(sheet_xml: bytes, strings_xml: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr("xl/sharedStrings.xml", strings_xml)
    return buf.getvalue()


def _strings(values: list[str], extra: int = 0, declared: int | None = None) -> bytes:
    """A sharedStrings part holding ``values`` and then ``extra`` copies of a one-letter string
    (declaring ``declared`` strings in its header, if given: a file may lie)."""
    n = len(values) + extra if declared is None else declared
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="{n}" uniqueCount="{n}">'
    body = "".join(f"<si><t>{v}</t></si>" for v in values)
    return (head + body).encode() + b"<si><t>a</t></si>" * extra + b"</sst>"


def _sheet(rows: list[str], dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}>{dim}<sheetData>'.encode()
        + "".join(rows).encode()
        + b"</sheetData></worksheet>"
    )


def _row(n: int, cells: list[tuple[str, int]]) -> str:
    """A row whose cells are shared-string indexes: (column letter, index)."""
    return (
        f'<row r="{n}">'
        + "".join(f'<c r="{col}{n}" t="s"><v>{i}</v></c>' for col, i in cells)
        + "</row>"
    )


def inflated_shared_strings(strings: int = 3_000_000, declared: int | None = None) -> bytes:
    """A tiny workbook (one header row) whose sharedStrings part holds ``strings`` strings.

    3 million give about 48 MB of XML, under 100 KB zipped (issue 18, finding 1).
    """
    header = _row(1, [("A", 0), ("B", 1), ("C", 2)])
    return _xlsx(
        _sheet([header]), _strings(["source", "record_id", "full_name"], strings, declared)
    )


def identical_bad_rows(rows: int = 100_000) -> bytes:
    """A workbook of ``rows`` identical rows, each without a record_id (so each is an error)."""
    strings = _strings(["source", "record_id", "full_name", "ngo_x", "محمد"])
    body = [_row(1, [("A", 0), ("B", 1), ("C", 2)])]
    # rows without coordinates (allowed by the format) are byte-identical, so they zip well
    body += ['<row><c t="s"><v>3</v></c><c/><c t="s"><v>4</v></c></row>'] * rows
    return _xlsx(_sheet(body), strings)


def zip_bomb_member(uncompressed: int = 200 * 1024 * 1024) -> bytes:
    """A workbook whose sheet part is ``uncompressed`` bytes of padding (a zip bomb member),
    written in chunks so building it costs little memory."""
    header = _sheet([_row(1, [("A", 0), ("B", 1)])])
    head, tail = header.split(b"<sheetData>", 1)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as f:
            f.write(head)
            pad = b" " * (1 << 20)
            for _ in range(uncompressed // len(pad)):
                f.write(pad)
            f.write(b"<sheetData>" + tail)
        z.writestr("xl/sharedStrings.xml", _strings(["source", "record_id"]))
    return buf.getvalue()


def far_cell(row: int = 2, column: str = "A") -> bytes:
    """A header and one cell far down (``row``) or far to the right (``column``): a reader
    that pads the gap with empty rows or cells does a great deal of work for a tiny file."""
    header = _row(1, [("A", 0), ("B", 1)])
    far = f'<row r="{row}"><c r="{column}{row}" t="s"><v>2</v></c></row>'
    return _xlsx(_sheet([header, far]), _strings(["source", "record_id", "x"]))


def yaml_billion_laughs(levels: int = 9, width: int = 9) -> bytes:
    """A few hundred bytes of YAML that expand to ``width ** levels`` strings through aliases."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        refs = ",".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"date_order: *a{levels - 1}")  # a message quotes this value
    return ("\n".join(lines) + "\n").encode()


def json_depth_bomb(depth: int = 100_000) -> bytes:
    """``[[[[...]]]]`` nested ``depth`` deep (a few hundred KB)."""
    return b"[" * depth + b"]" * depth


def json_width_bomb(items: int = 2_000_000, item: bytes = b"{}") -> bytes:
    """A list of ``items`` copies of ``item``: a few MB that become millions of rows."""
    return b"[" + b",".join([item] * items) + b"]"


def json_wide_record(fields: int = 200_000) -> bytes:
    """One record with ``fields`` distinct keys (a header of that many columns)."""
    return ("[{" + ",".join(f'"k{i}":1' for i in range(fields)) + "}]").encode()
