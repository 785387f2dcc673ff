"""Product images: decoded and re-encoded with Pillow (never stored as uploaded), resized."""
from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000  # refuse decompression bombs well before Pillow's own limit


@dataclass
class StoredImage:
    filename: str
    thumb_filename: str
    width: int
    height: int


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(img, mask=img.getchannel("A"))
        return background
    return img.convert("RGB")


def decode(data: bytes, *, max_bytes: int, label: str = Msg("图片")) -> Image.Image:
    if not data:
        raise ValidationFailed(Msg("%(label)s是空文件", label=label), field="images")
    if len(data) > max_bytes:
        raise ValidationFailed(Msg("%(label)s超过 %(mb)s MB，请压缩后再上传", label=label,
                                   mb=max_bytes // (1024 * 1024)), field="images")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            if fmt not in ALLOWED_FORMATS:
                raise ValidationFailed(Msg("%(label)s格式不支持：只接受 JPEG、PNG 或 WebP",
                                           label=label), field="images")
            if probe.width * probe.height > MAX_PIXELS:
                raise ValidationFailed(Msg("%(label)s像素过大", label=label), field="images")
            probe.verify()
        img = Image.open(io.BytesIO(data))
        img.load()
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(Msg("%(label)s不是有效的图片文件（只接受 JPEG、PNG 或 WebP）",
                                   label=label), field="images") from None
    return img


def thumb_filename(stem: str) -> str:
    """The thumbnail's file name for a stored picture's stem (pictures stored before thumbnails
    were WebP keep their `_t.jpg`, named in their rows)."""
    return f"{stem}_t.webp"


def store(data: bytes, folder: str | Path, *, max_bytes: int, max_side: int, thumb_side: int,
          label: str = Msg("图片")) -> StoredImage:
    img = decode(data, max_bytes=max_bytes, label=label)
    img = ImageOps.exif_transpose(img)
    img = _flatten(img)
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    thumb = img.copy()
    thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = secrets.token_hex(12)
    name, thumb_name = f"{stem}.jpg", thumb_filename(stem)
    img.save(folder / name, "JPEG", quality=85, optimize=True, progressive=True)
    # thumbnails fill the lists a phone scrolls through: WebP is less than half a JPEG of the
    # same look (the large picture stays JPEG, for sharing and saving)
    thumb.save(folder / thumb_name, "WEBP", quality=70, method=4)
    return StoredImage(name, thumb_name, img.width, img.height)


def remove_files(folder: str | Path, *names: str) -> None:
    for name in names:
        if name and "/" not in name and ".." not in name:
            (Path(folder) / name).unlink(missing_ok=True)


# ---- files follow the transaction -----------------------------------------------------------
# New files are removed if the transaction that recorded them rolls back; files of removed images
# are deleted only once the removal is committed. So neither a failed request nor a later error
# leaves the database and the upload folder disagreeing.

def track_new(session, folder: str | Path, *names: str) -> None:
    session.info.setdefault("new_files", []).extend((str(folder), n) for n in names)


def delete_after_commit(session, folder: str | Path, *names: str) -> None:
    session.info.setdefault("doomed_files", []).extend((str(folder), n) for n in names)


def _after_commit(session) -> None:
    for folder, name in session.info.pop("doomed_files", []):
        remove_files(folder, name)
    session.info.pop("new_files", None)


def _after_rollback(session) -> None:
    for folder, name in session.info.pop("new_files", []):
        remove_files(folder, name)
    session.info.pop("doomed_files", None)


def install_session_hooks() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)
