"""A family's photo, made safe before it is stored (issue 18, finding 12).

An uploaded photo is never stored as sent.  It is

1. sniffed by content (JPEG, PNG or WebP only; the name and the declared type are ignored);
2. opened by Pillow restricted to that one format, and its size read from the header *before*
   any pixel is decoded: more than ``max_pixels`` pixels (a "decompression bomb" such as a
   100,000 x 100,000 PNG of a few hundred KiB) is refused without decoding;
3. decoded (the first frame only), turned upright by its EXIF orientation, shrunk to at most
   :data:`MAX_SIDE` pixels on its longer side, and
4. re-encoded from the pixels alone: a PNG as PNG, a JPEG as JPEG (quality
   :data:`JPEG_QUALITY`), a WebP as JPEG, or as PNG when it has transparency.  No EXIF (GPS position, phone model, dates), XMP, ICC profile,
   comment or text chunk survives, and nothing appended after the image (a polyglot's ZIP,
   HTML or script) is carried over, because only decoded pixels are written.

Every refusal is a :class:`PhotoRefused` whose ``message`` is an English msgid, translated
where shown.  Pure: bytes in, bytes out; no database, no file.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from athar.domain.messages import N_
from athar.errors import InvalidInput

#: the types accepted, by sniffed content, and the Pillow format each must decode as
FORMATS: dict[str, str] = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
#: the longer side of a stored photo, in pixels (a face stays recognisable; a request stays small)
MAX_SIDE = 2048
JPEG_QUALITY = 85

NOT_AN_IMAGE = N_("The photo must be a JPEG, PNG or WebP image.")
TOO_MANY_PIXELS = N_("The photo has too many pixels; send a smaller picture.")
UNREADABLE = N_("The photo cannot be read; it may be damaged. Send another picture.")


class PhotoRefused(ValueError, InvalidInput):
    """The upload is not a photo Athar will store; ``message`` says why (an English msgid)."""

    code = "photo_refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CleanPhoto:
    """A re-encoded photo: only pixels, no metadata."""

    data: bytes
    content_type: str
    width: int
    height: int


def sniff_photo(data: bytes) -> str | None:
    """The image type from the file's first bytes (JPEG, PNG or WebP), else ``None``."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def clean_photo(data: bytes, *, max_pixels: int) -> CleanPhoto:
    """Decode ``data`` within ``max_pixels`` and re-encode it without any metadata.

    Raises :class:`PhotoRefused` for anything that is not a JPEG, PNG or WebP image, that has
    more than ``max_pixels`` pixels, or that does not decode.
    """
    declared = sniff_photo(data)
    if declared is None:
        raise PhotoRefused(NOT_AN_IMAGE)
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its own limit, raises) on large images; the check
            # below is ours and runs before decoding, so its warning is noise here.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[FORMATS[declared]]) as image:
                width, height = image.size
                if width < 1 or height < 1 or width * height > max_pixels:
                    raise PhotoRefused(TOO_MANY_PIXELS)
                image.seek(0)  # an animation: the first frame only
                image.load()
                upright = ImageOps.exif_transpose(image) or image
                alpha = _has_alpha(upright)
                pixels = upright.convert("RGBA" if alpha else "RGB")
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:
        raise PhotoRefused(TOO_MANY_PIXELS) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise PhotoRefused(UNREADABLE) from None
    pixels.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    pixels.info = {}  # what convert() copied (exif, icc_profile, dpi, text): none goes out
    out = io.BytesIO()
    if alpha or declared == "image/png":
        pixels.save(out, format="PNG", optimize=True)
        content_type = "image/png"
    else:
        pixels.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True)
        content_type = "image/jpeg"
    return CleanPhoto(out.getvalue(), content_type, pixels.width, pixels.height)
