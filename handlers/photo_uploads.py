"""One upload of an object's photo at a time; the cards waiting for it are sent with its file id.

An object's card is sent as an upload only until Telegram's file id of it is stored (on the object's
first card, or after its image was replaced); every later card reuses that id. A burst used to upload
the same photo once per user until the first upload came back: 64 people opting in at once made 64
uploads of it (a megabyte or more each, against Telegram's upload limits, and the first wave's cards
the slowest of the whole walk). Now the first card uploads, and the cards sent meanwhile wait for it
and go out with its file id; if the upload fails, the next waiting card uploads instead.

Per process: instances elsewhere each make at most one upload, then read the stored id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class PhotoUploads:
    def __init__(self) -> None:
        # (object id, image path) -> the file id of its upload: in flight, done, or None if it failed.
        self._uploads: dict[tuple[int, str], asyncio.Future[str | None]] = {}

    async def send(
        self,
        object_id: int,
        image_path: str,
        by_file_id: Callable[[str], Awaitable[None]],
        upload: Callable[[], Awaitable[str | None]],
        keep: Callable[[str], Awaitable[None]],
    ) -> None:
        """Send by a file id this process already got for the image, else upload once (`upload` returns
        Telegram's file id of the photo; None when the answer had none) and `keep` its file id (store
        it for every instance) once the cards waiting for it are on their way."""
        key = (object_id, image_path)
        while (pending := self._uploads.get(key)) is not None:
            file_id = await asyncio.shield(pending)
            if file_id is not None:
                await by_file_id(file_id)
                return
            if self._uploads.get(key) is pending:  # failed and nobody took over yet
                del self._uploads[key]
        future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._uploads[key] = future
        try:
            file_id = await upload()
        except BaseException:
            future.set_result(None)  # the next waiting card uploads
            raise
        future.set_result(file_id)
        if file_id is not None:
            await keep(file_id)
