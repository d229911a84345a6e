"""Checking an uploaded document by its content (pure: bytes in, facts or a Chinese message
out). PDF, Word (DOCX, and the old DOC) and photos of a signed paper (JPEG, PNG, WebP) are
accepted; the file's name says nothing, its first bytes decide. A clue's documents
(server/rectification/clues.py) take the same check without Word (`word=False`)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from server.images import ImageRejected, check_image

PDF = b"%PDF-"
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the compound file of .doc (and .xls, .ppt)
ZIP = b"PK\x03\x04"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED = "PDF、Word（DOCX、DOC）或图片（JPEG、PNG、WebP）"
ACCEPTED_NO_WORD = "PDF 或图片（JPEG、PNG、WebP）"


class DocumentRejected(ValueError):
    """The upload is not an acceptable document; the message is for the user."""


@dataclass(frozen=True)
class CheckedDocument:
    content_type: str
    extension: str
    sha256: str
    size: int


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "word/document.xml" in names and "[Content_Types].xml" in names


def _is_doc(data: bytes) -> bool:
    """An OLE2 compound file holding a Word stream: the UTF-16 name "WordDocument" appears in
    its directory (an .xls or .ppt has Workbook / PowerPoint Document instead)."""
    return data.startswith(OLE2) and "WordDocument".encode("utf-16-le") in data


def check_document(data: bytes, max_bytes: int, max_pixels: int, *, word: bool = True) -> CheckedDocument:
    """The file's type by its content, or DocumentRejected. word=False: a PDF or an image
    only (a Word file is refused like any other)."""
    accepted = ACCEPTED if word else ACCEPTED_NO_WORD
    if not data:
        raise DocumentRejected("文件为空，请重新选择")
    if len(data) > max_bytes:
        raise DocumentRejected(f"文件过大（{len(data) / 1048576:.1f} MB），上限 {max_bytes // 1048576} MB")
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(PDF):
        if b"%%EOF" not in data[-2048:]:
            raise DocumentRejected("PDF 文件不完整或已损坏，请重新导出后上传")
        return CheckedDocument("application/pdf", "pdf", digest, len(data))
    if not word and data.startswith((ZIP, OLE2)):
        raise DocumentRejected(f"只接受 {accepted} 文件；Word 等 Office 文件请另存为 PDF 后上传")
    if data.startswith(ZIP):
        if _is_docx(data):
            return CheckedDocument(DOCX_TYPE, "docx", digest, len(data))
        raise DocumentRejected(f"只接受 {ACCEPTED} 文件；这个压缩格式的文件不是 Word 文档")
    if data.startswith(OLE2):
        if _is_doc(data):
            return CheckedDocument("application/msword", "doc", digest, len(data))
        raise DocumentRejected(f"只接受 {ACCEPTED} 文件；这个 Office 文件不是 Word 文档")
    try:
        image = check_image(data, max_bytes, max_pixels)
    except ImageRejected:
        raise DocumentRejected(f"只接受 {accepted} 文件，所选文件的内容不是这些格式或已损坏") from None
    return CheckedDocument(image.content_type, image.extension, digest, len(data))


def download_name(body_name: str, kind_label: str, extension: str) -> str:
    """E.g. 区教育局-工作方案.pdf: what the office's browser saves the file as."""
    return f"{body_name}-{kind_label}.{extension}"
