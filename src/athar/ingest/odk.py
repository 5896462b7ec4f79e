"""Encrypted ODK submissions as they arrive: from a folder, or from an ODK Central server.

Each submission is its manifest (the plain ``submission.xml`` of an encrypted submission) and
its encrypted files (``submission.xml.enc``, ``<media>.enc``).  Nothing here decrypts:
:mod:`athar.security.odk` does, and the casework service imports.

A folder is what ODK Briefcase and ODK Collect keep: one directory per submission holding
``submission.xml`` and its ``.enc`` files (``instances/<instance>/``, at any depth), or a single
submission's directory.  From Central the submissions of each form are listed and each one's
manifest and attachments fetched with pyodk (``GET .../submissions``,
``.../submissions/{instanceId}.xml``, ``.../submissions/{instanceId}/attachments[/{name}]``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from athar.errors import InvalidInput, UnusableFile

log = logging.getLogger(__name__)
MANIFEST = "submission.xml"
#: the largest encrypted file read (a photo, the submission's XML)
MAX_FILE_BYTES = 32 * 1024 * 1024


class CentralUnavailable(InvalidInput):
    """ODK Central could not be read (configuration, login or a request failed)."""

    code = "odk_central_unavailable"


@dataclass(frozen=True)
class EncryptedSubmission:
    """One submission as received: where it came from, its manifest and encrypted files."""

    where: str
    manifest: bytes
    files: dict[str, bytes] = field(default_factory=dict)


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise UnusableFile(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} read")
    return path.read_bytes()


def read_folder(root: Path) -> Iterator[EncryptedSubmission]:
    """Every submission under ``root`` (a directory with ``submission.xml`` and ``.enc`` files
    is one), in path order."""
    if not root.is_dir():
        raise UnusableFile(f"{root}: not a folder of ODK submissions")
    manifests = sorted(p for p in root.rglob(MANIFEST) if p.is_file())
    if not manifests:
        raise UnusableFile(
            f"{root}: no {MANIFEST} found (expected one folder per submission, as ODK Briefcase "
            "or ODK Collect keep them)"
        )
    for manifest in manifests:
        folder = manifest.parent
        files = {p.name: _read(p) for p in sorted(folder.glob("*.enc")) if p.is_file()}
        yield EncryptedSubmission(str(manifest), _read(manifest), files)


def read_central(
    config_path: Path,
    project_id: int,
    form_ids: Sequence[str],
) -> Iterator[EncryptedSubmission]:
    """The submissions of ``form_ids`` in Central project ``project_id``, read with pyodk.

    ``config_path`` is pyodk's TOML configuration (``[central]`` ``base_url``, ``username``,
    ``password``).  The login token stays in memory: nothing is cached on disk."""
    from pyodk._utils import config as pyodk_config
    from pyodk._utils.session import Session
    from pyodk.client import Client
    from pyodk.errors import PyODKError
    from requests import RequestException

    try:
        cfg = pyodk_config.read_config(config_path=config_path)
        session = Session(
            base_url=cfg.central.base_url,
            api_version="v1",
            username=cfg.central.username,
            password=cfg.central.password,
            cache_path=None,
        )
        with Client(config=cfg, session=session, project_id=project_id) as client:
            for form_id in form_ids:
                base = session.urlformat(
                    "projects/{pid}/forms/{fid}/submissions", pid=project_id, fid=form_id
                )
                try:
                    listed = client.submissions.list(form_id=form_id, project_id=project_id)
                except PyODKError as exc:
                    response = exc.args[1] if len(exc.args) > 1 else None
                    if getattr(response, "status_code", None) == 404:
                        log.info("form %s is not on Central project %s", form_id, project_id)
                        continue
                    raise
                for sub in listed:
                    iid = session.urlquote(sub.instanceId)
                    manifest = session.response_or_error(
                        "GET", f"{base}/{iid}.xml", logger=log
                    ).content
                    attachments = session.response_or_error(
                        "GET", f"{base}/{iid}/attachments", logger=log
                    ).json()
                    files: dict[str, bytes] = {}
                    for att in attachments:
                        name = str(att.get("name", ""))
                        if att.get("exists") and name:
                            files[name] = session.response_or_error(
                                "GET",
                                f"{base}/{iid}/attachments/{session.urlquote(name)}",
                                logger=log,
                            ).content
                    yield EncryptedSubmission(
                        f"central project {project_id} form {form_id} {sub.instanceId}",
                        manifest,
                        files,
                    )
    except PyODKError as exc:
        raise CentralUnavailable(f"ODK Central: {exc.args[0] if exc.args else exc}") from None
    except RequestException as exc:
        raise CentralUnavailable(f"ODK Central could not be reached: {exc}") from None
