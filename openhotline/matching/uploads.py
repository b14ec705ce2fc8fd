"""Reading an uploaded file into memory, with a limit counted on the bytes received.

Uploads to the hashing API may be abuse material: they must never touch the
disk (Django spools large uploads to temporary files), and the size limit must
hold whatever the ``Content-Length`` header claims. Both a multipart form (field
``file``) and a raw body are accepted.
"""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest

READ_CHUNK = 64 * 1024


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is larger than {limit} bytes")
        self.limit = limit


class UploadMissing(Exception):
    pass


class MemoryOnlyUpload(FileUploadHandler):
    """Keeps uploaded files in memory and stops at ``limit`` bytes received."""

    def __init__(self, request: HttpRequest, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.buffer = io.BytesIO()

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.limit:
            raise UploadTooLarge(self.limit)
        self.buffer.write(raw_data)

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def read_upload(request: HttpRequest, limit: int) -> bytes:
    """The uploaded file's bytes: multipart field ``file``, or the whole raw body.

    Raises ``UploadTooLarge`` past ``limit`` bytes and ``UploadMissing`` when empty.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + 64 * 1024:  # a quick refusal; the count below is what holds
        raise UploadTooLarge(limit)
    if request.content_type == "multipart/form-data":
        request.upload_handlers = [MemoryOnlyUpload(request, limit)]
        upload = request.FILES.get("file")
        data = upload.read() if upload is not None else b""
        if not data:
            raise UploadMissing("send the file (not empty) in the multipart field 'file'")
        return data
    data = bytearray()
    while chunk := request.read(READ_CHUNK):
        data += chunk
        if len(data) > limit:
            raise UploadTooLarge(limit)
    if not data:
        raise UploadMissing("send the file as the body, or in the multipart field 'file'")
    return bytes(data)
